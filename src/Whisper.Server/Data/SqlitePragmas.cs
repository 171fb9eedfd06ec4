using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace Whisper.Server.Data;

/// <summary>
/// Applies the per-connection SQLite settings Whisper relies on: a busy timeout so concurrent writers
/// queue instead of failing; synchronous=FULL so that a message whose send was answered survives a
/// crash or power loss; temporary storage in memory, because a statement that may fail halfway inside a larger
/// transaction (an insert with a trigger, the search indexer's batches) journals what it changes, and in a
/// file that journal wrote more than the database's own log did (see docs/BENCHMARKS.md); and the log's length
/// past which a commit copies it into the database (<see cref="AutoCheckpointPages"/>). WAL (readers never block
/// the writer) is a property of the database file, set once at start-up (<see cref="EnableWriteAheadLog"/>),
/// not on every one of the many connection opens. It also creates the contexts' connections, without the SQL
/// functions EF Core would add to them (<see cref="ConnectionCreating"/>).
/// </summary>
/// <remarks>
/// The settings belong to the native connection, which Microsoft.Data.Sqlite's pool keeps open across the
/// many logical opens of a request (EF opens and closes for every query). So they run once per native
/// connection, not on every open: that was two statements parsed and run per query (see docs/BENCHMARKS.md).
/// </remarks>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    /// <summary>
    /// The write-ahead log's length, in pages, past which the committing connection copies it into the database
    /// itself: ten times SQLite's default, as <see cref="SqliteCheckpointer"/> copies it in the background.
    /// </summary>
    public const int AutoCheckpointPages = 10_000;

    private static readonly string Pragmas =
        $"PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint={AutoCheckpointPages};";

    public const string EnableWriteAheadLog = "PRAGMA journal_mode=WAL;";

    /// <summary>
    /// Puts the SQLite library in its multi-thread mode, once per process before the first connection opens.
    /// The default, serialized, takes a connection's mutex on every call, down to each column of each row read
    /// (7% of a busy server's CPU reading history pages). Whisper never shares a connection between threads at
    /// once (a connection belongs to one context, and EF refuses concurrent use of a context), which is all the
    /// multi-thread mode asks. Memory statistics, which take a global mutex on every allocation, go too.
    /// </summary>
    public static void UseMultiThreadMode()
    {
        Batteries_V2.Init();
        // Both fail harmlessly (SQLITE_MISUSE) if a connection was opened before in this process: SQLite then
        // stays serialized, which is only slower.
        raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD);
        raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0);
    }

    // Keyed by the native handle, so an entry goes when the pool closes that connection and its handle is collected.
    private static readonly ConditionalWeakTable<sqlite3, object> Configured = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (Unconfigured(connection) is { } handle)
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
            Configured.AddOrUpdate(handle, Configured);
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Unconfigured(connection) is { } handle)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            // Marked only once the settings ran: a cancelled open leaves the connection to be configured by the next.
            Configured.AddOrUpdate(handle, Configured);
        }
    }

    /// <summary>
    /// Creates each context's connection as EF Core would, but without the SQL functions its SQLite provider adds to
    /// every connection it creates (<c>regexp</c>, and decimal arithmetic such as <c>ef_add</c> and <c>ef_compare</c>).
    /// Microsoft.Data.Sqlite registers a connection's functions on the native connection at every logical open and
    /// removes them at every close, and EF opens and closes for every query: fourteen calls into SQLite per query, about
    /// 5% of a read-receipt storm's samples (docs/BENCHMARKS.md, ninth round). Whisper stores no decimals and queries no
    /// regular expressions, so no query it makes needs them.
    /// </summary>
    public override InterceptionResult<DbConnection> ConnectionCreating(ConnectionCreatingEventData eventData, InterceptionResult<DbConnection> result) =>
        InterceptionResult<DbConnection>.SuppressWithResult(new SqliteConnection(eventData.ConnectionString));

    /// <summary>The native connection under <paramref name="connection"/>, if the settings have not run on it yet.</summary>
    private static sqlite3? Unconfigured(DbConnection connection) =>
        connection is SqliteConnection { Handle: { } handle } && !Configured.TryGetValue(handle, out _) ? handle : null;
}
