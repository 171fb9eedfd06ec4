using System.Diagnostics;
using HdrHistogram;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>
/// W4: reading over HTTP. One group holds <c>messages</c> messages; a member back from offline fetches
/// all of them (pages of 200, <c>after=</c> its last seq), and then <c>readers</c> members read history
/// pages and their chat lists in a closed loop, each asking again as soon as it is answered.
/// </summary>
public sealed class HistoryWorkload(Uri server, int readers, int messages, int? serverPid)
{
    private const int CatchUpPage = 200;
    private const int HistoryPage = 50;
    private readonly List<WhisperClient> clients = [];
    private Guid chatId;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        clients.AddRange(await BenchClients.RegisterAsync(server, readers + 1, cancellationToken));

        var writer = clients[0];
        chatId = (await writer.CreateGroupAsync("history", clients.Skip(1).Select(c => c.Session!.User.Id), cancellationToken)).Id;
        await using var connection = BenchClients.HubConnection(server, writer);
        await connection.StartAsync(cancellationToken);
        // 64 sends in flight: the history is written as fast as the server stores it.
        using var inFlight = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, messages).Select(async i =>
        {
            await inFlight.WaitAsync(cancellationToken);
            try
            {
                await connection.InvokeAsync<Message>("SendMessage", chatId.ToString(),
                    new NewMessage($"history message {i}, of a typical length: about sixty bytes", $"history-{i}"), cancellationToken);
            }
            finally
            {
                inFlight.Release();
            }
        }));
    }

    /// <summary>Everything after seq 0, as a client back from offline fetches it; checks it is whole and in order.</summary>
    public async Task<string> CatchUpAsync(CancellationToken cancellationToken)
    {
        var reader = clients[^1];
        var clock = Stopwatch.StartNew();
        var lastSeq = 0L;
        var received = 0;
        var requests = 0;
        bool more;
        do
        {
            var page = await reader.ListMessagesAsync(chatId, after: lastSeq, limit: CatchUpPage, cancellationToken: cancellationToken);
            requests++;
            foreach (var message in page.Items)
            {
                if (message.Seq != lastSeq + 1)
                {
                    throw new InvalidOperationException($"Catch-up expected seq {lastSeq + 1}, got {message.Seq}.");
                }

                lastSeq = message.Seq;
                received++;
            }

            more = page.HasMore;
        }
        while (more);

        if (received != messages)
        {
            throw new InvalidOperationException($"Catch-up fetched {received} of {messages} messages.");
        }

        var took = clock.Elapsed;
        return $"| catch-up: {messages:N0} missed messages, pages of {CatchUpPage} | 1 | {messages / took.TotalSeconds:N0} messages/s | " +
            $"{requests:N0} requests, {took.TotalMilliseconds:N0} ms in all | | |";
    }

    /// <summary>
    /// Every reader asks again as soon as it is answered, for <paramref name="duration"/>, after as long unmeasured
    /// (<paramref name="warmUp"/>): the server's JIT otherwise recompiles the request's path during the measurement.
    /// </summary>
    public async Task<string> ReadAsync(
        string what, Func<WhisperClient, Random, Task> request, TimeSpan warmUp, TimeSpan duration, CancellationToken cancellationToken)
    {
        await LoopAsync(request, warmUp, _ => { }, cancellationToken);
        var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        var cpuBefore = ProcessStats.CpuTime(serverPid);
        var clock = Stopwatch.StartNew();
        var failures = await LoopAsync(request, duration, took =>
        {
            lock (histogram)
            {
                histogram.RecordValue(took);
            }
        }, cancellationToken);

        var elapsed = clock.Elapsed;
        var cpu = ProcessStats.CpuTime(serverPid) - cpuBefore;
        double Ms(double percentile) => Measure.Milliseconds(histogram, percentile);
        return $"| {what} | {readers} | {histogram.TotalCount / elapsed.TotalSeconds:N0} requests/s ({failures} failed) | " +
            $"p50 {Ms(50):F1} ms, p99 {Ms(99):F1} ms, p99.9 {Ms(99.9):F1} ms | {Measure.CpuPercent(cpu, elapsed):F0} | {ProcessStats.RssMiB(serverPid):F0} |";
    }

    /// <summary>The closed loop: each reader's requests one after another; returns the failures.</summary>
    private async Task<int> LoopAsync(Func<WhisperClient, Random, Task> request, TimeSpan duration, Action<long> answered, CancellationToken cancellationToken)
    {
        var failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Skip(1).Select(async (client, index) =>
        {
            var random = new Random(index);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await request(client, random);
                    answered(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception exception) when (exception is WhisperApiException or HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        return failures;
    }

    public async Task<string> RunAsync(string label, TimeSpan warmUp, TimeSpan duration, CancellationToken cancellationToken)
    {
        var rows = new List<string> { await CatchUpAsync(cancellationToken) };
        rows.Add(await ReadAsync($"history page of {HistoryPage} at a random point", (client, random) =>
            client.ListMessagesAsync(chatId, before: random.NextInt64(HistoryPage, messages + 1), limit: HistoryPage, cancellationToken: cancellationToken),
            warmUp, duration, cancellationToken));
        rows.Add(await ReadAsync("chat list (first page)", (client, _) => client.ListChatsAsync(cancellationToken: cancellationToken), warmUp, duration, cancellationToken));
        return $"""

            ### W4 catch-up and history: {label}, one group of {readers + 1} members with {messages:N0} messages, HTTP/1.1 with JSON

            | request | concurrent clients | throughput | latency | server CPU % | server RSS MiB |
            |---|---:|---:|---|---:|---:|
            {string.Join(Environment.NewLine, rows)}
            """;
    }

    public void Dispose() => clients.ForEach(client => client.Dispose());
}
