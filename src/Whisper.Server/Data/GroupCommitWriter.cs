using System.Diagnostics;
using System.Threading.Channels;
using Whisper.Server.Common;
using Whisper.Server.Operations;

namespace Whisper.Server.Data;

/// <summary>
/// Group commit: writes are queued and stored by one loop, every write that is waiting at that moment in one
/// transaction, so concurrent callers share one commit (one fsync) instead of queueing for the database's
/// write lock one by one. A lone write is stored at once; under load the batches grow by themselves. On
/// SQLite this also keeps request threads from blocking in its busy handler.
/// </summary>
/// <remarks>
/// The loop runs on a thread of its own at a raised priority (<see cref="WriterNice"/>). On SQLite the one writer
/// is what limits the server, and its work is synchronous: on the thread pool, with every core busy, it waited for a
/// CPU about a third of its time, behind the request threads that queue more writes (docs/BENCHMARKS.md,
/// thirteenth round).
/// </remarks>
/// <typeparam name="TPending">A queued write with the completion its caller awaits.</typeparam>
/// <param name="writes">What the writes are, for the log and the metrics: "messages", say.</param>
public abstract partial class GroupCommitWriter<TPending>(string writes, WhisperMetrics metrics, ILogger logger) : BackgroundService
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

    /// <summary>Completes the write with the exception that kept it from being stored.</summary>
    protected abstract void Fail(TPending pending, Exception exception);

    /// <summary>
    /// Callers get the exception: a database out of reach is answered as 503 (and retried), anything else as 500.
    /// </summary>
    protected void FailAll(List<TPending> batch, Exception exception)
    {
        if (Operations.UnavailableDependency.Caused(exception))
        {
            LogBatchUnavailable(exception, batch.Count, writes);
        }
        else
        {
            LogBatchFailed(exception, batch.Count, writes);
        }

        batch.ForEach(pending => Fail(pending, exception));
    }

    /// <summary>
    /// The writer thread's Linux nice value: a thread at -10 gets about nine times the share of a busy core that one
    /// at the default 0 does. Setting it needs <c>CAP_SYS_NICE</c> (or an <c>RLIMIT_NICE</c> that allows it); without,
    /// the writer runs at the default priority and says so once in the log.
    /// </summary>
    public const int WriterNice = -10;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not stopped by the token: writes already accepted are stored before the host stops.
        stoppingToken.Register(() => queue.Writer.TryComplete());
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                Run();
                stopped.SetResult();
            }
            catch (Exception exception)
            {
                stopped.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = $"{writes} writer",
        }.Start();
        return stopped.Task;
    }

    /// <summary>
    /// Waits for writes and stores them, blocking this thread: SQLite's calls are synchronous, so the whole batch runs
    /// here; on PostgreSQL the network's answers continue on the thread pool while this thread waits.
    /// </summary>
    private void Run()
    {
        if (!ThreadNiceness.TrySetForCurrentThread(WriterNice, out var error) && error != 0)
        {
            LogDefaultPriority(writes, error);
        }

        var batch = new List<TPending>(MaxBatch);
        while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            var started = Stopwatch.GetTimestamp();
            WriteAsync(batch).GetAwaiter().GetResult();
            metrics.BatchWritten(writes, batch.Count, Stopwatch.GetElapsedTime(started));
            batch.Clear();
        }
    }

    [LoggerMessage(LogLevel.Error, "Storing a batch of {Count} {Writes} failed")]
    private partial void LogBatchFailed(Exception exception, int count, string writes);

    [LoggerMessage(LogLevel.Information, "The {Writes} writer runs at the default priority: raising a thread's priority needs CAP_SYS_NICE (error {Error})")]
    private partial void LogDefaultPriority(string writes, int error);

    [LoggerMessage(LogLevel.Warning, "Storing a batch of {Count} {Writes} failed: the database is out of reach")]
    private partial void LogBatchUnavailable(Exception exception, int count, string writes);
}
