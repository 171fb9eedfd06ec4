using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>
/// W5: a read-marking storm in one large group. A message arrives; every other member marks it read
/// (the hub's MarkRead) at an open-loop rate, and each advance reaches the message's sender and the
/// marker's own connection as a receiptUpdated event (nobody else's messages changed status). Rounds
/// follow each other, a new message and its storm, for as long as a rate is offered, so that each rate
/// is measured over many marks (one round is only <c>members - 1</c> of them). Latency is from the mark
/// call to each of those two events; every event is counted.
/// </summary>
public sealed class ReceiptsWorkload(Uri server, int members, int? serverPid) : IAsyncDisposable
{
    /// <summary>The member who sends each round's message; the others mark it read.</summary>
    private const int Sender = 0;

    private static readonly TimeSpan MarkTimeout = TimeSpan.FromSeconds(30);

    private readonly List<HubConnection> connections = [];
    private readonly Dictionary<Guid, int> memberIndex = [];
    // Keyed by mark number * members + receiving member: one entry per event that arrived.
    private readonly ConcurrentDictionary<long, int> copies = new();
    // Each round's message seq, and the round of each seq (written before the round's first mark).
    private readonly ConcurrentDictionary<long, int> roundOfSeq = new();
    private long[] markedAt = [];
    private LongHistogram histogram = new(TimeStamp.Seconds(60), 3);
    private Guid chatId;

    private int MarksPerRound => members - 1;

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
        if (receipt.Status != ReceiptStatus.Read || !roundOfSeq.TryGetValue(receipt.Seq, out var round) || !memberIndex.TryGetValue(receipt.UserId, out var marker)
            || marker == Sender || (recipient != Sender && recipient != marker))
        {
            return;
        }

        // Read once: a late event of the previous run, whose round was looked up before the next run cleared the
        // rounds, may meet the next run's (shorter) array, and is then not counted.
        var marked = markedAt;
        var mark = (long)round * MarksPerRound + marker - 1;
        if (mark >= marked.Length)
        {
            return;
        }

        if (copies.AddOrUpdate(mark * members + recipient, 1, (_, count) => count + 1) == 1)
        {
            var latency = Stopwatch.GetTimestamp() - Volatile.Read(ref marked[mark]);
            lock (histogram)
            {
                histogram.RecordValue(latency);
            }
        }
    }

    /// <summary>
    /// Offers <paramref name="rate"/> marks per second for <paramref name="duration"/> (at least one round): each round a
    /// new message, then every member but its sender marks it read, in turn.
    /// </summary>
    public async Task<LoadResult> RunAsync(int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        copies.Clear();
        roundOfSeq.Clear();
        histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        var rounds = Math.Max(1, (int)Math.Ceiling(rate * duration.TotalSeconds / MarksPerRound));
        markedAt = new long[rounds * MarksPerRound];
        var acknowledged = 0;
        var failed = 0;
        var cpuBefore = ProcessStats.CpuTime(serverPid);
        var clock = Stopwatch.StartNew();
        var marks = new List<Task>(markedAt.Length);
        for (var round = 0; round < rounds; round++)
        {
            var message = await connections[Sender].InvokeAsync<Message>("SendMessage", chatId.ToString(), new NewMessage("read me"), cancellationToken);
            roundOfSeq[message.Seq] = round;
            for (var marker = 1; marker < members; marker++)
            {
                // Open loop over the whole run: mark i leaves at i / rate, whether or not earlier ones were answered.
                var mark = round * MarksPerRound + marker - 1;
                var due = TimeSpan.FromSeconds((double)mark / rate);
                // Read once: time passes between a check and a second read, and a negative wait throws.
                if (due - clock.Elapsed is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                Volatile.Write(ref markedAt[mark], Stopwatch.GetTimestamp());
                marks.Add(Mark(marker, message.Seq));
            }
        }

        await Task.WhenAll(marks);
        var markingTook = clock.Elapsed;
        // The sender and the marker itself hear each advance.
        var expected = (long)acknowledged * 2;
        await Measure.SettleAsync(() => copies.Count, expected, cancellationToken);

        var elapsed = clock.Elapsed;
        var cpu = ProcessStats.CpuTime(serverPid) - cpuBefore;
        return new LoadResult(
            rate, markedAt.Length, acknowledged, failed,
            Deliveries: copies.Count,
            Lost: expected - copies.Count,
            Duplicated: copies.Values.Count(count => count > 1),
            DeliveriesPerSecond: copies.Count / markingTook.TotalSeconds,
            P50: Measure.Milliseconds(histogram, 50), P99: Measure.Milliseconds(histogram, 99), P999: Measure.Milliseconds(histogram, 99.9),
            ServerCpuPercent: Measure.CpuPercent(cpu, elapsed),
            ServerRssMiB: ProcessStats.RssMiB(serverPid));

        async Task Mark(int marker, long seq)
        {
            // A mark the server never answers counts as failed instead of holding up the run for ever.
            using var answerWithin = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            answerWithin.CancelAfter(MarkTimeout);
            try
            {
                await connections[marker].InvokeAsync("MarkRead", chatId.ToString(), seq, answerWithin.Token);
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
