using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace Whisper.Server.Data;

/// <summary>
/// Applies the per-connection SQLite settings Whisper relies on: a busy timeout so concurrent writers
/// queue instead of failing, and synchronous=FULL so that a message whose send was answered survives a
/// crash or power loss. WAL (readers never block the writer) is a property of the database file, set
/// once at start-up (<see cref="EnableWriteAheadLog"/>), not on every one of the many connection opens.
/// </summary>
/// <remarks>
/// The settings belong to the native connection, which Microsoft.Data.Sqlite's pool keeps open across the
/// many logical opens of a request (EF opens and closes for every query). So they run once per native
/// connection, not on every open: that was two statements parsed and run per query (see docs/BENCHMARKS.md).
/// </remarks>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

    public const string EnableWriteAheadLog = "PRAGMA journal_mode=WAL;";

    // Keyed by the native handle, so an entry goes when the pool closes that connection and its handle is collected.
    private static readonly ConditionalWeakTable<sqlite3, object> Configured = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!IsConfigured(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
            MarkConfigured(connection);
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (!IsConfigured(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            MarkConfigured(connection);
        }
    }

    private static bool IsConfigured(DbConnection connection) =>
        connection is SqliteConnection { Handle: { } handle } && Configured.TryGetValue(handle, out _);

    // Marked only once the settings ran: a cancelled open leaves the connection to be configured by the next.
    private static void MarkConfigured(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            Configured.AddOrUpdate(handle, Configured);
        }
    }
}
