using System.Diagnostics;

namespace Whisper.Bench;

/// <summary>
/// W1: idle authenticated hub connections, opened in steps and spread evenly over one or more server nodes
/// (several nodes share one database and Redis, as a cluster does). Each node's connections are held by a
/// worker process of their own (<see cref="IdleConnections"/>). After each step the servers' resident memory
/// is read once it has settled, and divided by the connections.
/// </summary>
public sealed class ConnectionsWorkload(IReadOnlyList<Uri> servers, int userCount, IReadOnlyList<int> serverPids, int? redisPid) : IAsyncDisposable
{
    private readonly List<ConnectionsWorker> workers = [];
    private string? tokensFile;
    private int userTotal;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        // The nodes share the accounts: registering on the first is enough.
        var clients = await BenchClients.RegisterAsync(servers[0], userCount, cancellationToken);
        tokensFile = Path.GetTempFileName();
        await File.WriteAllLinesAsync(tokensFile, clients.Select(c => c.Session!.AccessToken), cancellationToken);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        userTotal = clients.Length;
        // 64 connects in flight in all, so that more nodes do not mean a harder storm of connects.
        workers.AddRange(servers.Select(server => ConnectionsWorker.Start(server, tokensFile, Math.Max(8, 64 / servers.Count))));
    }

    public async Task<string> RunAsync(string label, IReadOnlyList<int> steps, CancellationToken cancellationToken)
    {
        var idle = ServersRss();
        var redisIdle = ProcessStats.RssMiB(redisPid);
        var (previousCount, previousMemory) = (0, idle + (redisIdle ?? 0));
        var rows = new List<string>();
        foreach (var target in steps)
        {
            var clock = Stopwatch.StartNew();
            var opening = target - workers.Sum(w => w.Open);
            // Node i holds its share of the target: the shares differ by one at most.
            var failures = await Task.WhenAll(workers.Select((worker, i) =>
                worker.OpenAsync(target * (i + 1) / workers.Count - target * i / workers.Count - worker.Open, cancellationToken)));
            var failed = failures.Sum();
            var took = clock.Elapsed;
            var count = workers.Sum(w => w.Open);

            // Settled: connection set-up (groups, presence) has finished and the servers idle.
            var cpuBefore = ServersCpu();
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            var idleCpu = (ServersCpu() - cpuBefore)?.TotalSeconds / 5 * 100;
            var rss = ServersRss();
            var redis = ProcessStats.RssMiB(redisPid);
            var memory = rss + (redis ?? 0);
            var perConnection = memory - idle - (redisIdle ?? 0) is { } grown && count > 0 ? grown * 1024 / count : (double?)null;
            // The step's own growth: the servers' fixed costs (JIT, pools, caches) are paid by the first step.
            var perAdded = memory - previousMemory is { } added && count > previousCount ? added * 1024 / (count - previousCount) : (double?)null;
            (previousCount, previousMemory) = (count, memory);
            var redisColumn = redisPid is null ? "" : $" {redis:F0} |";
            var row = $"| {count:N0} | {failed:N0} | {(opening - failed) / took.TotalSeconds:N0} | {rss:F0} |{redisColumn} {perConnection:F1} | {perAdded:F1} | {idleCpu:F0} |";
            Console.WriteLine(row);
            rows.Add(row);
            if (failed > 0)
            {
                break;
            }
        }

        var nodes = servers.Count == 1 ? "" : $", {servers.Count} nodes";
        var what = servers.Count == 1 ? "server" : "servers'";
        var (redisHeader, redisAlign, redisNote) = redisPid is null
            ? ("", "", "")
            : (" Redis RSS MiB |", "---:|", $" Redis's growth (from {redisIdle:F0} MiB) counts too.");
        return $"""

            ### W1 idle connections: {label}{nodes}, {userTotal} users, raw WebSockets with the SignalR JSON handshake, pinging every 15 s

            {(servers.Count == 1 ? "Server" : "The servers' summed")} RSS with no connections: {idle:F0} MiB. Memory per connection is the growth over that, divided by the connections.{redisNote}

            | connections | failed | connects/s | {what} RSS MiB |{redisHeader} KiB per connection | KiB per connection of this step | {what} CPU % (idle) |
            |---:|---:|---:|---:|{redisAlign}---:|---:|---:|
            {string.Join(Environment.NewLine, rows)}
            """;
    }

    private double? ServersRss() => serverPids.Count == 0 ? null : serverPids.Sum(pid => ProcessStats.RssMiB(pid));

    private TimeSpan? ServersCpu() => serverPids.Count == 0 ? null : serverPids.Aggregate((TimeSpan?)TimeSpan.Zero, (sum, pid) => sum + ProcessStats.CpuTime(pid));

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        if (tokensFile is not null)
        {
            File.Delete(tokensFile);
        }
    }
}
