using System.Collections.Concurrent;
using Whisper.Client;

namespace Whisper.Server.Tests.Faults;

/// <summary>The server's answer to one message: the proof that it is stored.</summary>
public sealed record Acknowledgement(LoadClient Client, string ClientMessageId, Message Message, DateTime FirstAttemptAt, DateTime AttemptStartedAt, DateTime AnsweredAt);

/// <summary>
/// Every client sends as fast as it can, each message with its own clientMessageId, and retries the
/// same id after any failure until the server answers. It records every attempt and every answer, so
/// that a test can hold what was acknowledged against what is stored. Bounded twice: a number of
/// messages per client, and a deadline after which no client retries any more.
/// </summary>
public sealed class SendLoad : IAsyncDisposable
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentQueue<Acknowledgement> acknowledged = new();
    private readonly ConcurrentQueue<(string ClientMessageId, string LastError)> abandoned = new();
    private readonly ConcurrentDictionary<string, int> failureKinds = new();
    private readonly CancellationTokenSource stopNew = new();
    private readonly CancellationTokenSource abort = new();
    private readonly DateTime deadline;
    private readonly int messagesPerClient;
    private readonly Task[] senders;
    private long attempts;
    private long sent;

    private SendLoad(IReadOnlyList<LoadClient> clients, int messagesPerClient, TimeSpan bound)
    {
        this.messagesPerClient = messagesPerClient;
        deadline = DateTime.UtcNow + bound;
        senders = clients.Select(client => Task.Run(() => SendAllAsync(client))).ToArray();
    }

    public static SendLoad Start(IReadOnlyList<LoadClient> clients, int messagesPerClient, TimeSpan bound) => new(clients, messagesPerClient, bound);

    /// <summary>Messages the clients set out to send (each clientMessageId once, however often it was retried).</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Send attempts, retries included.</summary>
    public long Attempts => Interlocked.Read(ref attempts);

    public int Acknowledged => acknowledged.Count;

    public IReadOnlyList<Acknowledgement> Acknowledgements => [.. acknowledged];

    /// <summary>Messages given up at the deadline, never acknowledged, with the last failure each met.</summary>
    public IReadOnlyList<(string ClientMessageId, string LastError)> Abandoned => [.. abandoned];

    /// <summary>Every kind of failed attempt ("type: first line of its message").</summary>
    public IReadOnlyCollection<string> FailureKinds => [.. failureKinds.Keys];

    /// <summary>Failed attempts by kind, e.g. "HttpRequestException: Connection refused" × 120.</summary>
    public string FailureSummary => failureKinds.IsEmpty
        ? "no failed attempts"
        : string.Join("; ", failureKinds.OrderByDescending(f => f.Value).Take(4).Select(f => $"{f.Value} × {f.Key}"));

    /// <summary>Answers to attempts that began after <paramref name="since"/>: only a server up after that moment can give them.</summary>
    public IEnumerable<Acknowledgement> AcknowledgedSince(DateTime since) => acknowledged.Where(a => a.AttemptStartedAt > since);

    /// <summary>When the first message was acknowledged after <paramref name="since"/>, if one was.</summary>
    public DateTime? FirstAnswerSince(DateTime since) => AcknowledgedSince(since).Select(a => (DateTime?)a.AnsweredAt).Min();

    /// <summary>When the last of these clients had its first message acknowledged after <paramref name="since"/>: all of them were served again.</summary>
    public DateTime? EveryClientAnsweredSince(IEnumerable<LoadClient> clients, DateTime since)
    {
        var first = AcknowledgedSince(since).GroupBy(a => a.Client).ToDictionary(g => g.Key, g => g.Min(a => a.AnsweredAt));
        var all = clients.ToList();
        return all.All(first.ContainsKey) ? all.Max(c => first[c]) : null;
    }

    /// <summary>Stops starting new messages and waits for each client's message in flight to be acknowledged (or given up at the deadline).</summary>
    public async Task StopAsync()
    {
        await stopNew.CancelAsync();
        var remaining = deadline - DateTime.UtcNow;
        await Task.WhenAll(senders).WaitAsync((remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) + AttemptTimeout + TimeSpan.FromSeconds(5));
    }

    /// <summary>Ends the load at once (a test that failed half-way must not leave senders behind).</summary>
    public async ValueTask DisposeAsync()
    {
        await stopNew.CancelAsync();
        await abort.CancelAsync();
        await Task.WhenAll(senders).WaitAsync(AttemptTimeout + TimeSpan.FromSeconds(5));
        stopNew.Dispose();
        abort.Dispose();
    }

    private async Task SendAllAsync(LoadClient client)
    {
        for (var n = 1; n <= messagesPerClient && !stopNew.IsCancellationRequested; n++)
        {
            var chatId = client.ChatIds[n % client.ChatIds.Count];
            var clientMessageId = $"{client.Name}-{n}";
            var message = new NewMessage($"message {n} of {client.Name}", clientMessageId);
            var firstAttempt = DateTime.UtcNow;
            Interlocked.Increment(ref sent);
            while (true)
            {
                var started = DateTime.UtcNow;
                Interlocked.Increment(ref attempts);
                string error;
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
                    timeout.CancelAfter(AttemptTimeout);
                    var stored = client.Hub is { } hub
                        ? await hub.SendMessageAsync(chatId, message, timeout.Token)
                        : await client.Rest.SendMessageAsync(chatId, message, timeout.Token);
                    acknowledged.Enqueue(new Acknowledgement(client, clientMessageId, stored, firstAttempt, started, DateTime.UtcNow));
                    break;
                }
                catch (Exception exception)
                {
                    // Whatever went wrong (refused connection, reset, timeout, a 5xx, a hub that is
                    // reconnecting), the client cannot know whether the message was stored: it retries the same id.
                    error = $"{exception.GetType().Name}: {FirstLine(exception.Message)}";
                    failureKinds.AddOrUpdate(error, 1, (_, count) => count + 1);
                }

                if (DateTime.UtcNow + RetryDelay > deadline || abort.IsCancellationRequested)
                {
                    abandoned.Enqueue((clientMessageId, error));
                    return;
                }

                await Task.Delay(RetryDelay, CancellationToken.None);
            }
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 100 ? line[..100] : line;
    }
}
