using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;
using Whisper.Server.Data;

namespace Whisper.Server.Messages;

/// <summary>
/// Indexes new messages for SQLite's full-text search in large batches, outside their send's transaction (see
/// migration IndexMessageSearchInBatches): shortly after messages are stored, and before every search, so that a
/// search finds every message stored before it began. FTS5 writes an index segment per commit, so indexing the
/// few messages of each group commit cost about as much as storing them. PostgreSQL keeps its own index in step
/// (a generated tsvector), so there this does nothing.
/// </summary>
public sealed partial class SearchIndexer(IServiceScopeFactory scopes, IOptions<WhisperOptions> options, ILogger<SearchIndexer> logger)
    : BackgroundService
{
    /// <summary>How long stored messages gather before they are indexed, when no search asks sooner.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(200);

    /// <summary>The most messages one indexing transaction takes, so that a long queue (after a crash, say) never holds the write lock for long.</summary>
    private const int MaxBatch = 5_000;

    private readonly bool enabled = options.Value.Database.Provider == DatabaseProvider.Sqlite;
    private readonly Channel<bool> stored = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim oneAtATime = new(1, 1);

    /// <summary>Called after messages are committed: they will be indexed within <see cref="Gather"/>.</summary>
    public void MessagesStored()
    {
        if (enabled)
        {
            stored.Writer.TryWrite(true);
        }
    }

    /// <summary>Indexes every message queued so far, through the caller's context (a search's own).</summary>
    public async Task CatchUpAsync(WhisperDbContext db, CancellationToken cancellationToken)
    {
        if (!enabled)
        {
            return;
        }

        await oneAtATime.WaitAsync(cancellationToken);
        try
        {
            int indexed;
            do
            {
                indexed = await IndexBatchAsync(db);
            }
            while (indexed == MaxBatch);
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!enabled)
        {
            return;
        }

        try
        {
            // What an earlier run queued and did not index is indexed first.
            do
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await CatchUpAsync(scope.ServiceProvider.GetRequiredService<WhisperDbContext>(), stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The queue stays; the next send or search retries.
                    LogFailed(exception);
                }

                await stored.Reader.ReadAsync(stoppingToken);
                await Task.Delay(Gather, stoppingToken);
            }
            while (!stoppingToken.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Indexes the oldest queued messages, up to <see cref="MaxBatch"/>, in one transaction; answers how many it took
    /// from the queue. A queued message that an edit has indexed already (trigger Messages_Search_Update), or that
    /// is deleted or gone, is only taken off the queue.
    /// </summary>
    private static async Task<int> IndexBatchAsync(WhisperDbContext db)
    {
        // Read before taking the write lock, so that a search with nothing queued does not take it. Only this
        // indexer, one batch at a time, takes messages off the queue, so these are still queued below.
        var queued = await db.Database.SqlQuery<QueueFront>($"""
            SELECT COUNT(*) AS "Count", MAX("Id") AS "Upto"
            FROM (SELECT "Id" FROM "MessageSearchPending" ORDER BY "Id" LIMIT {MaxBatch}) AS front
            """).SingleAsync();
        if (queued.Upto is not { } upto)
        {
            return 0;
        }

        await using var transaction = await db.Database.BeginTransactionAsync();
        var keyedBefore = await db.Database.SqlQuery<long>($"""SELECT COALESCE(MAX("RowId"), 0) AS "Value" FROM "MessageSearchKeys" """).SingleAsync();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "MessageSearchKeys" ("MessageId")
            SELECT m."Id" FROM "MessageSearchPending" AS p JOIN "Messages" AS m ON m."Id" = p."MessageId"
            WHERE p."Id" <= {upto} AND m."Content" IS NOT NULL AND m."DeletedAt" IS NULL
                AND NOT EXISTS (SELECT 1 FROM "MessageSearchKeys" AS k WHERE k."MessageId" = m."Id")
            ORDER BY p."Id"
            """);
        // Keys are numbered upwards from the largest, so the ones just made are those above it.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "MessageSearch" (rowid, "Content")
            SELECT k."RowId", m."Content" FROM "MessageSearchKeys" AS k JOIN "Messages" AS m ON m."Id" = k."MessageId"
            WHERE k."RowId" > {keyedBefore}
            """);
        await db.Database.ExecuteSqlAsync($"""DELETE FROM "MessageSearchPending" WHERE "Id" <= {upto}""");
        await transaction.CommitAsync();
        return queued.Count;
    }

    /// <summary>The oldest queued messages a batch takes: how many, and the last one's queue id (none when the queue is empty).</summary>
    private sealed record QueueFront(int Count, long? Upto);

    [LoggerMessage(Level = LogLevel.Error, Message = "Indexing messages for search failed; they stay queued.")]
    private partial void LogFailed(Exception exception);
}
