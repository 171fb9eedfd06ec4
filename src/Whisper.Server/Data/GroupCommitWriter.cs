using System.Threading.Channels;

namespace Whisper.Server.Data;

/// <summary>
/// Group commit: writes are queued and stored by one loop, every write that is waiting at that moment in one
/// transaction, so concurrent callers share one commit (one fsync) instead of queueing for the database's
/// write lock one by one. A lone write is stored at once; under load the batches grow by themselves. On
/// SQLite this also keeps request threads from blocking in its busy handler.
/// </summary>
/// <typeparam name="TPending">A queued write with the completion its caller awaits.</typeparam>
public abstract class GroupCommitWriter<TPending> : BackgroundService
{
    private readonly Channel<TPending> queue = Channel.CreateUnbounded<TPending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The most writes one transaction stores: large enough to amortise a commit, small enough to answer soon.</summary>
    protected abstract int MaxBatch { get; }

    protected void Enqueue(TPending pending)
    {
        if (!queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The server is shutting down.");
        }
    }

    /// <summary>Stores the batch and completes every write in it, whether stored, refused or failed.</summary>
    protected abstract Task WriteAsync(List<TPending> batch);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<TPending>(MaxBatch);
        // Not stopped by the token: writes already accepted are stored before the host stops.
        stoppingToken.Register(() => queue.Writer.TryComplete());
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            await WriteAsync(batch);
            batch.Clear();
        }
    }
}
