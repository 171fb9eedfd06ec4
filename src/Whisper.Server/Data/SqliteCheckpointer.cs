using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Data;

/// <summary>
/// Copies SQLite's write-ahead log into the database file in the background (a passive checkpoint: it waits for no
/// reader or writer), so that the writers' commits do not. By default the connection whose commit takes the log past
/// 1,000 pages copies it, inside that commit; in a busy server that connection is the single message writer's, and
/// the copy and its fsync stalled every send queued behind it (docs/BENCHMARKS.md, fifth round). Should this fall
/// behind, writers still copy past <see cref="SqlitePragmas.AutoCheckpointPages"/>.
/// </summary>
public sealed partial class SqliteCheckpointer(
    IServiceScopeFactory scopes, IOptions<WhisperOptions> options, TimeProvider time, ILogger<SqliteCheckpointer> logger)
    : BackgroundService
{
    /// <summary>How often the log is copied: at 5,000 messages/s, about 1,500 pages (6 MiB) each time.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Database.Provider != DatabaseProvider.Sqlite)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckpointAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The next tick tries again; meanwhile the writers copy the log themselves past their limit.
                LogFailed(exception);
            }
        }
    }

    private async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(PASSIVE)", cancellationToken);
    }

    [LoggerMessage(LogLevel.Warning, "Copying SQLite's write-ahead log into the database failed; trying again shortly.")]
    private partial void LogFailed(Exception exception);
}
