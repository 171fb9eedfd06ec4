using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>
/// W1: idle authenticated hub connections, opened in steps. A lean client (a raw WebSocket that does the
/// SignalR handshake and then only pings) keeps the generator's own cost per connection small. After
/// each step the server's resident memory is read once it has settled, and divided by the connections.
/// </summary>
public sealed class ConnectionsWorkload(Uri server, int userCount, int? serverPid) : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator);
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}" + RecordSeparator);
    private readonly List<ClientWebSocket> sockets = [];
    private readonly List<string> tokens = [];
    private readonly CancellationTokenSource stopping = new();
    private Task pinging = Task.CompletedTask;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        foreach (var client in await BenchClients.RegisterAsync(server, userCount, cancellationToken))
        {
            tokens.Add(client.Session!.AccessToken);
            client.Dispose();
        }

        // SignalR drops a client it has not heard from for 30 s: every connection pings every 10 s.
        pinging = Task.Run(() => PingAsync(stopping.Token), CancellationToken.None);
    }

    public async Task<string> RunAsync(string label, IReadOnlyList<int> steps, CancellationToken cancellationToken)
    {
        var idle = ProcessStats.RssMiB(serverPid);
        var (previousCount, previousRss) = (0, idle);
        var rows = new List<string>();
        foreach (var target in steps)
        {
            var clock = Stopwatch.StartNew();
            var opening = target - sockets.Count;
            var failed = 0;
            using var inFlight = new SemaphoreSlim(64);
            var opened = await Task.WhenAll(Enumerable.Range(sockets.Count, opening).Select(async i =>
            {
                await inFlight.WaitAsync(cancellationToken);
                try
                {
                    return await ConnectAsync(tokens[i % tokens.Count], cancellationToken);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or InvalidOperationException)
                {
                    Interlocked.Increment(ref failed);
                    return null;
                }
                finally
                {
                    inFlight.Release();
                }
            }));
            var took = clock.Elapsed;
            lock (sockets)
            {
                sockets.AddRange(opened.OfType<ClientWebSocket>());
            }

            // Settled: connection set-up (groups, presence) has finished and the server idles.
            var cpuBefore = ProcessStats.CpuTime(serverPid);
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            var idleCpu = (ProcessStats.CpuTime(serverPid) - cpuBefore)?.TotalSeconds / 5 * 100;
            var rss = ProcessStats.RssMiB(serverPid);
            var perConnection = rss - idle is { } grown && sockets.Count > 0 ? grown * 1024 / sockets.Count : (double?)null;
            // The step's own growth: the server's fixed costs (JIT, pools, caches) are paid by the first step.
            var perAdded = rss - previousRss is { } added && sockets.Count > previousCount ? added * 1024 / (sockets.Count - previousCount) : (double?)null;
            (previousCount, previousRss) = (sockets.Count, rss);
            var row = $"| {sockets.Count:N0} | {failed:N0} | {(opening - failed) / took.TotalSeconds:N0} | {rss:F0} | {perConnection:F1} | {perAdded:F1} | {idleCpu:F0} |";
            Console.WriteLine(row);
            rows.Add(row);
            if (failed > 0)
            {
                break;
            }
        }

        return $"""

            ### W1 idle connections: {label}, {tokens.Count} users, raw WebSockets with the SignalR JSON handshake, pinging every 10 s

            Server RSS with no connections: {idle:F0} MiB. Memory per connection is the growth over that, divided by the connections.

            | connections | failed | connects/s | server RSS MiB | KiB per connection | KiB per connection of this step | server CPU % (idle) |
            |---:|---:|---:|---:|---:|---:|---:|
            {string.Join(Environment.NewLine, rows)}
            """;
    }

    private async Task<ClientWebSocket> ConnectAsync(string token, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
        socket.Options.SetBuffer(256, 256);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await socket.ConnectAsync(new UriBuilder(server) { Scheme = "ws", Path = "/hubs/chat", Query = $"access_token={token}" }.Uri, timeout.Token);
            await socket.SendAsync(Handshake, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var answer = new byte[256];
            var received = await socket.ReceiveAsync(answer, timeout.Token);
            if (!Encoding.UTF8.GetString(answer, 0, received.Count).StartsWith("{}" + RecordSeparator, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The hub refused the handshake.");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ClientWebSocket[] all;
            lock (sockets)
            {
                all = [.. sockets];
            }

            foreach (var socket in all)
            {
                try
                {
                    await socket.SendAsync(Ping, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
                {
                    // Counted at the next step's read of the server; a closed socket stays closed.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await pinging;
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}
