using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Whisper.Server.Data;

/// <summary>
/// Applies the SQLite settings Whisper relies on to every connection: WAL so readers never block the
/// writer, a busy timeout so concurrent writers queue instead of failing, and synchronous=FULL so that
/// a message whose send was answered survives a crash or power loss.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

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
