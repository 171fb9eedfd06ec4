using System.Diagnostics;
using HdrHistogram;

namespace Whisper.Bench;

/// <summary>
/// W2 and W3: users in chats of <c>chatSize</c> members (2: direct chats, W2; more: groups, W3), each
/// message sent by one member at an open-loop rate and received by all the others, over a transport
/// (Whisper's hub, or a peer's protocol). Latency is from the sender's call to each recipient's
/// arrival, on one process's clock; every copy is counted, so a lost or duplicated delivery shows.
/// </summary>
public sealed class ChatWorkload(IChatTransport transport, int userCount, int chatSize, int? serverPid) : IAsyncDisposable
{
    private IReadOnlyList<int[]> chats = [];
    // Each user's chat, and place among its members: the chats share the users out, a user is in one.
    private int[] chatOf = [];
    private int[] placeInChat = [];
    // Copies that arrived, at message number * chatSize + the recipient's place in its chat; and how many are not 0.
    private int[] copies = [];
    private long delivered;
    private long[] sentAt = [];
    private string run = "";
    private LongHistogram histogram = NewHistogram();

    private static LongHistogram NewHistogram() => new(TimeStamp.Seconds(60), 3);

    public int ChatCount => chats.Count;

    public string Transport => transport.Description;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        chats = await transport.SetUpAsync(userCount, chatSize, Received, cancellationToken);
        chatOf = new int[userCount];
        placeInChat = new int[userCount];
        for (var chat = 0; chat < chats.Count; chat++)
        {
            for (var place = 0; place < chats[chat].Length; place++)
            {
                chatOf[chats[chat][place]] = chat;
                placeInChat[chats[chat][place]] = place;
            }
        }
    }

    private void Received(string? key, int sender, int recipient)
    {
        // Keys are "{run}-{message number}"; anything else (another run's late copies) is not counted, nor is a
        // copy that reached someone outside the message's chat (message i goes to chat i % chats, as RunAsync sends).
        if (key is null || !key.StartsWith(run, StringComparison.Ordinal) || !long.TryParse(key.AsSpan(run.Length + 1), out var number)
            || number >= sentAt.Length || sender == recipient || chatOf[recipient] != number % chats.Count)
        {
            return;
        }

        if (Interlocked.Increment(ref copies[number * chatSize + placeInChat[recipient]]) == 1)
        {
            Interlocked.Increment(ref delivered);
            var latency = Stopwatch.GetTimestamp() - Volatile.Read(ref sentAt[number]);
            lock (histogram)
            {
                histogram.RecordValue(latency);
            }
        }
    }

    public async Task<LoadResult> RunAsync(int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        histogram = NewHistogram();
        var total = (int)(rate * duration.TotalSeconds);
        sentAt = new long[total];
        copies = new int[total * (long)chatSize];
        Interlocked.Exchange(ref delivered, 0);
        var acknowledged = new bool[total];
        run = Guid.NewGuid().ToString("N")[..8];
        var failed = 0;
        var cpuBefore = ProcessStats.CpuTime(serverPid);
        var clock = Stopwatch.StartNew();
        var sends = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            // Open loop: message i leaves at i / rate, whether or not earlier ones were answered.
            var due = TimeSpan.FromSeconds((double)i / rate);
            // Read once: time passes between a check and a second read, and a negative wait throws.
            if (due - clock.Elapsed is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait, cancellationToken);
            }

            // Chats take turns, and so do the members of each chat.
            var chat = i % chats.Count;
            var sender = chats[chat][i / chats.Count % chatSize];
            Volatile.Write(ref sentAt[i], Stopwatch.GetTimestamp());
            sends.Add(Send(sender, chat, i));
        }

        await Task.WhenAll(sends);
        var sendingTook = clock.Elapsed;
        var expected = acknowledged.Count(a => a) * (long)(chatSize - 1);
        await Measure.SettleAsync(() => Interlocked.Read(ref delivered), expected, cancellationToken);

        var elapsed = clock.Elapsed;
        var cpu = ProcessStats.CpuTime(serverPid) - cpuBefore;
        var arrived = Interlocked.Read(ref delivered);
        long deliveredOfAcknowledged = 0, duplicated = 0;
        for (long copy = 0; copy < copies.LongLength; copy++)
        {
            var count = Volatile.Read(ref copies[copy]);
            deliveredOfAcknowledged += count > 0 && acknowledged[copy / chatSize] ? 1 : 0;
            duplicated += count > 1 ? 1 : 0;
        }

        return new LoadResult(
            rate, total, acknowledged.Count(a => a), failed,
            Deliveries: arrived,
            Lost: expected - deliveredOfAcknowledged,
            Duplicated: duplicated,
            DeliveriesPerSecond: arrived / Math.Max(sendingTook.TotalSeconds, duration.TotalSeconds),
            P50: Measure.Milliseconds(histogram, 50), P99: Measure.Milliseconds(histogram, 99), P999: Measure.Milliseconds(histogram, 99.9),
            ServerCpuPercent: Measure.CpuPercent(cpu, elapsed),
            ServerRssMiB: ProcessStats.RssMiB(serverPid));

        async Task Send(int sender, int chat, int number)
        {
            try
            {
                await transport.SendAsync(sender, chat, $"{run}-{number}", cancellationToken);
                acknowledged[number] = true;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }

    public ValueTask DisposeAsync() => transport.DisposeAsync();
}

public sealed record LoadResult(
    int OfferedRate, int Sent, int Acknowledged, int Failed, long Deliveries, long Lost, long Duplicated, double DeliveriesPerSecond,
    double P50, double P99, double P999, double? ServerCpuPercent, double? ServerRssMiB)
{
    public string ToRow() =>
        $"| {OfferedRate:N0} | {DeliveriesPerSecond:N0} | {P50:F1} | {P99:F1} | {P999:F1} | {Sent:N0} | {Acknowledged:N0} | {Lost} | {Duplicated} | {ServerCpuPercent:F0} | {ServerRssMiB:F0} |";

    public static string Table(string title, IEnumerable<LoadResult> results, string rate = "msg/s", string delivered = "deliveries/s") =>
        $"""

        ### {title}

        | offered {rate} | {delivered} | p50 ms | p99 ms | p99.9 ms | sent | acknowledged | lost | duplicated | server CPU % | server RSS MiB |
        |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
        {string.Join(Environment.NewLine, results.Select(r => r.ToRow()))}

        {Headline(results, rate, delivered)}
        """;

    /// <summary>The figure the goals are stated in: the most load held with p99 under 100 ms, nothing lost.</summary>
    private static string Headline(IEnumerable<LoadResult> results, string rate, string delivered) =>
        results.Where(r => r.P99 < 100 && r.Lost == 0 && r.Failed == 0).MaxBy(r => r.OfferedRate) is { } best
            ? $"Highest offered load with p99 under 100 ms: **{best.OfferedRate:N0} {rate}** ({best.DeliveriesPerSecond:N0} {delivered}, p99 {best.P99:F1} ms)."
            : "No offered load had p99 under 100 ms.";
}

/// <summary>CPU time and resident memory of the server process, read from /proc.</summary>
public static class ProcessStats
{
    public static TimeSpan? CpuTime(int? pid)
    {
        try
        {
            return pid is { } id ? Process.GetProcessById(id).TotalProcessorTime : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static double? RssMiB(int? pid)
    {
        try
        {
            return pid is { } id ? Process.GetProcessById(id).WorkingSet64 / 1024.0 / 1024.0 : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>What the workloads share once their load has been offered.</summary>
public static class Measure
{
    /// <summary>Waits until <paramref name="expected"/> copies have arrived, or 15 s: what arrives later counts as lost.</summary>
    public static async Task SettleAsync(Func<long> arrived, long expected, CancellationToken cancellationToken)
    {
        using var settle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        settle.CancelAfter(TimeSpan.FromSeconds(15));
        while (arrived() < expected && !settle.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>A percentile of stopwatch ticks in milliseconds; NaN when nothing was recorded.</summary>
    public static double Milliseconds(LongHistogram histogram, double percentile)
    {
        lock (histogram)
        {
            return histogram.TotalCount == 0 ? double.NaN : histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;
        }
    }

    /// <summary>CPU time used over wall-clock time, in percent of one core.</summary>
    public static double? CpuPercent(TimeSpan? cpu, TimeSpan elapsed) => cpu is { } used ? used.TotalSeconds / elapsed.TotalSeconds * 100 : null;
}
