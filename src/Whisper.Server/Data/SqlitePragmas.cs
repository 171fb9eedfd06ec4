using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Whisper.Server.Data;

/// <summary>
/// Applies the per-connection SQLite settings Whisper relies on: a busy timeout so concurrent writers
/// queue instead of failing, and synchronous=FULL so that a message whose send was answered survives a
/// crash or power loss. WAL (readers never block the writer) is a property of the database file, set
/// once at start-up (<see cref="EnableWriteAheadLog"/>), not on every one of the many connection opens.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

    public const string EnableWriteAheadLog = "PRAGMA journal_mode=WAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
