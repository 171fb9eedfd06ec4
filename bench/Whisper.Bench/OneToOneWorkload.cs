using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>
/// W2: users in pairs, each pair in a direct chat, sending over the hub (MessagePack) at an open-loop
/// rate. Latency is from the sender's call to the recipient's event, on one process's clock; every
/// copy is counted, so a lost or duplicated message shows.
/// </summary>
public sealed class OneToOneWorkload(Uri server, int pairCount, int? serverPid) : IAsyncDisposable
{
    private readonly List<(HubConnection Connection, Guid UserId)> users = [];
    private readonly List<(int Sender, int Recipient, Guid ChatId)> routes = [];
    private readonly ConcurrentDictionary<string, long> sentAt = new();
    private readonly ConcurrentDictionary<string, int> copies = new();
    private LongHistogram histogram = NewHistogram();

    private static LongHistogram NewHistogram() => new(TimeStamp.Seconds(60), 3);

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        using var throttle = new SemaphoreSlim(8);
        var clients = await Task.WhenAll(Enumerable.Range(0, pairCount * 2).Select(async i =>
        {
            await throttle.WaitAsync(cancellationToken);
            try
            {
                var client = new WhisperClient(server);
                await client.RegisterAsync($"bench{Guid.NewGuid():N}"[..24], "benchmark password", cancellationToken: cancellationToken);
                return client;
            }
            finally
            {
                throttle.Release();
            }
        }));

        for (var pair = 0; pair < pairCount; pair++)
        {
            var chat = await clients[pair * 2].OpenDirectChatAsync(clients[pair * 2 + 1].Session!.User.Id, cancellationToken);
            routes.Add((pair * 2, pair * 2 + 1, chat.Id));
            routes.Add((pair * 2 + 1, pair * 2, chat.Id));
        }

        foreach (var client in clients)
        {
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(server, "hubs/chat"), options =>
                {
                    options.AccessTokenProvider = () => client.GetAccessTokenAsync();
                    options.SkipNegotiation = true;
                    options.Transports = HttpTransportType.WebSockets;
                })
                .AddMessagePackProtocol()
                .Build();
            var userId = client.Session!.User.Id;
            connection.On<Message>("messageCreated", message => Received(message, userId));
            await connection.StartAsync(cancellationToken);
            users.Add((connection, userId));
        }
    }

    private void Received(Message message, Guid recipient)
    {
        var key = message.ClientMessageId;
        if (key is null || message.SenderId == recipient || !sentAt.TryGetValue(key, out var start))
        {
            return;
        }

        if (copies.AddOrUpdate(key, 1, (_, count) => count + 1) == 1)
        {
            lock (histogram)
            {
                histogram.RecordValue(Stopwatch.GetTimestamp() - start);
            }
        }
    }

    public async Task<LoadResult> RunAsync(int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        sentAt.Clear();
        copies.Clear();
        histogram = NewHistogram();
        var total = (int)(rate * duration.TotalSeconds);
        var run = Guid.NewGuid().ToString("N")[..8];
        var acknowledged = 0;
        var failed = 0;
        var cpuBefore = ProcessStats.CpuTime(serverPid);
        var clock = Stopwatch.StartNew();
        var sends = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            // Open loop: message i leaves at i / rate, whether or not earlier ones were answered.
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }

            var (sender, _, chatId) = routes[i % routes.Count];
            // Unique across runs: a repeated key is an idempotent retry, which the server stores (and announces) once.
            var key = $"{run}-{i}";
            sentAt[key] = Stopwatch.GetTimestamp();
            sends.Add(Send(users[sender].Connection, chatId, key));
        }

        await Task.WhenAll(sends);
        var sendingTook = clock.Elapsed;
        using var settle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        settle.CancelAfter(TimeSpan.FromSeconds(15));
        while (copies.Count < acknowledged && !settle.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }

        var elapsed = clock.Elapsed;
        var cpu = ProcessStats.CpuTime(serverPid) - cpuBefore;
        return new LoadResult(
            rate, total, acknowledged, failed,
            Delivered: copies.Count,
            Lost: acknowledged - copies.Count(c => c.Value >= 1),
            Duplicated: copies.Count(c => c.Value > 1),
            Throughput: copies.Count / Math.Max(sendingTook.TotalSeconds, duration.TotalSeconds),
            P50: Milliseconds(50), P99: Milliseconds(99), P999: Milliseconds(99.9),
            ServerCpuPercent: cpu is { } used ? used.TotalSeconds / elapsed.TotalSeconds * 100 : null,
            ServerRssMiB: ProcessStats.RssMiB(serverPid));

        async Task Send(HubConnection connection, Guid chatId, string key)
        {
            try
            {
                await connection.InvokeAsync<Message>("SendMessage", chatId.ToString(), new NewMessage("benchmark message of a typical length, about sixty bytes", key), cancellationToken);
                Interlocked.Increment(ref acknowledged);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }

    private double Milliseconds(double percentile)
    {
        lock (histogram)
        {
            return histogram.TotalCount == 0 ? double.NaN : histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (connection, _) in users)
        {
            await connection.DisposeAsync();
        }
    }
}

public sealed record LoadResult(
    int OfferedRate, int Sent, int Acknowledged, int Failed, int Delivered, int Lost, int Duplicated, double Throughput,
    double P50, double P99, double P999, double? ServerCpuPercent, double? ServerRssMiB)
{
    public string ToRow() =>
        $"| {OfferedRate:N0} | {Throughput:N0} | {P50:F1} | {P99:F1} | {P999:F1} | {Sent:N0} | {Acknowledged:N0} | {Lost} | {Duplicated} | {ServerCpuPercent:F0} | {ServerRssMiB:F0} |";

    public static string Table(string label, int pairs, IEnumerable<LoadResult> results) =>
        $"""

        ### W2 one-to-one: {label}, {pairs} pairs ({pairs * 2} connected users), hub with MessagePack

        | offered msg/s | delivered msg/s | p50 ms | p99 ms | p99.9 ms | sent | acknowledged | lost | duplicated | server CPU % | server RSS MiB |
        |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
        {string.Join(Environment.NewLine, results.Select(r => r.ToRow()))}
        """;
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
