using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>
/// W5: a read-marking storm in one large group. A message arrives; every other member marks it read
/// (the hub's MarkRead) at an open-loop rate, and each advance reaches the message's sender and the
/// marker's own connection as a receiptUpdated event (nobody else's messages changed status). Latency
/// is from the mark call to each of those two events; every event is counted.
/// </summary>
public sealed class ReceiptsWorkload(Uri server, int members, int? serverPid) : IAsyncDisposable
{
    /// <summary>The member who sends each round's message; the others mark it read.</summary>
    private const int Sender = 0;

    private static readonly TimeSpan MarkTimeout = TimeSpan.FromSeconds(30);

    private readonly List<HubConnection> connections = [];
    private readonly Dictionary<Guid, int> memberIndex = [];
    // Keyed by (seq * members + marking member) * members + receiving member.
    private readonly ConcurrentDictionary<long, int> copies = new();
    private long[] markedAt = [];
    private long seqOfRound;
    private LongHistogram histogram = new(TimeStamp.Seconds(60), 3);
    private Guid chatId;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        var clients = await BenchClients.RegisterAsync(server, members, cancellationToken);

        for (var i = 0; i < clients.Length; i++)
        {
            memberIndex[clients[i].Session!.User.Id] = i;
        }

        chatId = (await clients[0].CreateGroupAsync("receipts", clients.Skip(1).Select(c => c.Session!.User.Id), cancellationToken)).Id;
        foreach (var client in clients)
        {
            var connection = BenchClients.HubConnection(server, client);
            var recipient = memberIndex[client.Session!.User.Id];
            connection.On<ReceiptUpdate>("receiptUpdated", receipt => Received(receipt, recipient));
            await connection.StartAsync(cancellationToken);
            connections.Add(connection);
        }
    }

    private void Received(ReceiptUpdate receipt, int recipient)
    {
        var seq = Volatile.Read(ref seqOfRound);
        if (receipt.Status != ReceiptStatus.Read || receipt.Seq != seq || !memberIndex.TryGetValue(receipt.UserId, out var marker)
            || (recipient != Sender && recipient != marker))
        {
            return;
        }

        if (copies.AddOrUpdate((seq * members + marker) * members + recipient, 1, (_, count) => count + 1) == 1)
        {
            var latency = Stopwatch.GetTimestamp() - Volatile.Read(ref markedAt[marker]);
            lock (histogram)
            {
                histogram.RecordValue(latency);
            }
        }
    }

    /// <summary>One round: a new message, then every member but its sender marks it read, <paramref name="rate"/> marks per second.</summary>
    public async Task<LoadResult> RunAsync(int rate, CancellationToken cancellationToken)
    {
        copies.Clear();
        histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        markedAt = new long[members];
        var message = await connections[Sender].InvokeAsync<Message>("SendMessage", chatId.ToString(), new NewMessage("read me"), cancellationToken);
        Volatile.Write(ref seqOfRound, message.Seq);
        var acknowledged = 0;
        var failed = 0;
        var cpuBefore = ProcessStats.CpuTime(serverPid);
        var clock = Stopwatch.StartNew();
        var marks = new List<Task>(members - 1);
        for (var marker = 1; marker < members; marker++)
        {
            var due = TimeSpan.FromSeconds((double)(marker - 1) / rate);
            // Read once: time passes between a check and a second read, and a negative wait throws.
            if (due - clock.Elapsed is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait, cancellationToken);
            }

            Volatile.Write(ref markedAt[marker], Stopwatch.GetTimestamp());
            marks.Add(Mark(marker));
        }

        await Task.WhenAll(marks);
        var markingTook = clock.Elapsed;
        // The sender and the marker itself hear each advance.
        var expected = (long)acknowledged * 2;
        await Measure.SettleAsync(() => copies.Count, expected, cancellationToken);

        var elapsed = clock.Elapsed;
        var cpu = ProcessStats.CpuTime(serverPid) - cpuBefore;
        return new LoadResult(
            rate, members - 1, acknowledged, failed,
            Deliveries: copies.Count,
            Lost: expected - copies.Count,
            Duplicated: copies.Values.Count(count => count > 1),
            DeliveriesPerSecond: copies.Count / markingTook.TotalSeconds,
            P50: Measure.Milliseconds(histogram, 50), P99: Measure.Milliseconds(histogram, 99), P999: Measure.Milliseconds(histogram, 99.9),
            ServerCpuPercent: Measure.CpuPercent(cpu, elapsed),
            ServerRssMiB: ProcessStats.RssMiB(serverPid));

        async Task Mark(int marker)
        {
            // A mark the server never answers counts as failed instead of holding up the round for ever.
            using var answerWithin = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            answerWithin.CancelAfter(MarkTimeout);
            try
            {
                await connections[marker].InvokeAsync("MarkRead", chatId.ToString(), message.Seq, answerWithin.Token);
                Interlocked.Increment(ref acknowledged);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }
}
