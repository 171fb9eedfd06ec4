using System.CommandLine;
using Whisper.Bench;

// Drives a running Whisper server through its real protocol and reports what users would feel.
var server = new Option<string[]>("--server") { Description = "The server's address; for connections (W1), one or more nodes of a cluster, connections spread evenly.", Required = true, AllowMultipleArgumentsPerToken = true };
var users = new Option<int>("--users") { Description = "Connected users, split into chats of --chat-size.", DefaultValueFactory = _ => 200 };
var chatSize = new Option<int>("--chat-size") { Description = "Members per chat: 2 for one-to-one chats (W2), more for groups (W3).", DefaultValueFactory = _ => 2 };
var rates = new Option<string>("--rates") { Description = "Offered loads, messages per second, comma separated.", DefaultValueFactory = _ => "250,500,1000,2000" };
var seconds = new Option<int>("--seconds") { Description = "How long each load is offered.", DefaultValueFactory = _ => 10 };
var serverPid = new Option<int[]>("--server-pid") { Description = "The server's process id, to read its CPU and memory; one per --server.", AllowMultipleArgumentsPerToken = true };
var redisPid = new Option<int?>("--redis-pid") { Description = "W1: Redis's process id, whose memory counts with the servers'." };
var label = new Option<string>("--label") { Description = "What this run measures (e.g. the database).", DefaultValueFactory = _ => "Whisper" };
var output = new Option<FileInfo?>("--markdown") { Description = "Append the result table to this file." };
var warmUp = new Option<int>("--warm-up") { Description = "Seconds of load at the lowest rate before measuring, so the server's JIT has settled.", DefaultValueFactory = _ => 10 };

var workloadName = new Option<string>("--workload") { Description = "chat (W2, W3: sends at rising rates), connections (W1: idle connections in steps), receipts (W5: a read-marking storm in one group of --users), relay (the same against bench/Whisper.Relay), xmpp (the same against an XMPP server, --server xmpp://127.0.0.1:PORT/DOMAIN) or history (W4: catch-up and reading over HTTP).", DefaultValueFactory = _ => "chat" };
var steps = new Option<string>("--steps") { Description = "W1: connections to hold, in steps, comma separated.", DefaultValueFactory = _ => "1000,5000,10000" };
var historySize = new Option<int>("--history") { Description = "W4: messages in the group that is read.", DefaultValueFactory = _ => 10_000 };

var csv = new Option<FileInfo?>("--csv") { Description = "Append each load's figures to this CSV, for the charts." };
var chart = new Option<string>("--chart") { Description = "The chart these figures belong on (with --csv).", DefaultValueFactory = _ => "chat" };

var root = new RootCommand("Whisper load generator") { csv, chart, workloadName, steps, historySize, server, users, chatSize, rates, seconds, serverPid, redisPid, label, output, warmUp };
root.SetAction(async (parse, cancellationToken) =>
{
    var servers = parse.GetValue(server)!.Select(s => new Uri(s)).ToList();
    var serverPids = parse.GetValue(serverPid) ?? [];
    if (parse.GetValue(workloadName) == "connections")
    {
        await using var connections = new ConnectionsWorkload(servers, parse.GetValue(users), serverPids, parse.GetValue(redisPid));
        await connections.SetUpAsync(cancellationToken);
        var held = await connections.RunAsync(parse.GetValue(label)!, parse.GetValue(steps)!.Split(',').Select(int.Parse).ToList(), cancellationToken);
        Console.WriteLine(held);
        if (parse.GetValue(output) is { } connectionsFile)
        {
            await File.AppendAllTextAsync(connectionsFile.FullName, held + Environment.NewLine, cancellationToken);
        }

        return 0;
    }

    if (servers.Count > 1)
    {
        Console.Error.WriteLine("Only the connections workload spreads over several servers.");
        return 2;
    }

    var (one, onePid) = (servers[0], serverPids.Length > 0 ? serverPids[0] : (int?)null);
    if (parse.GetValue(workloadName) == "receipts")
    {
        await using var receipts = new ReceiptsWorkload(one, parse.GetValue(users), onePid);
        await receipts.SetUpAsync(cancellationToken);
        var offeredMarks = parse.GetValue(rates)!.Split(',').Select(int.Parse).ToList();
        // The lowest rate, unmeasured, for the warm-up time: the first marks otherwise pay for the JIT and, on
        // PostgreSQL, for opening the pool's connections.
        if (parse.GetValue(warmUp) is > 0 and var markingWarmUp)
        {
            Console.WriteLine($"warm-up: {(await receipts.RunAsync(offeredMarks.Min(), TimeSpan.FromSeconds(markingWarmUp), cancellationToken)).ToRow()}");
        }

        var byRate = new List<LoadResult>();
        foreach (var rate in offeredMarks)
        {
            byRate.Add(await receipts.RunAsync(rate, TimeSpan.FromSeconds(parse.GetValue(seconds)), cancellationToken));
            Console.WriteLine(byRate[^1].ToRow());
        }

        var storm = LoadResult.Table($"W5 read receipts: {parse.GetValue(label)}, one group of {parse.GetValue(users)} members, each round a new message that every other member marks read (MarkRead over the hub)",
            byRate, rate: "marks/s", delivered: "receipt events/s");
        Console.WriteLine(storm);
        if (parse.GetValue(output) is { } receiptsFile)
        {
            await File.AppendAllTextAsync(receiptsFile.FullName, storm + Environment.NewLine, cancellationToken);
        }

        return byRate.All(r => r.Lost == 0 && r.Duplicated == 0) ? 0 : 1;
    }

    if (parse.GetValue(workloadName) == "history")
    {
        var history = new HistoryWorkload(one, parse.GetValue(users), parse.GetValue(historySize), onePid);
        await history.SetUpAsync(cancellationToken);
        var report = await history.RunAsync(parse.GetValue(label)!, TimeSpan.FromSeconds(parse.GetValue(warmUp)), TimeSpan.FromSeconds(parse.GetValue(seconds)), cancellationToken);
        history.Dispose();
        Console.WriteLine(report);
        if (parse.GetValue(output) is { } historyFile)
        {
            await File.AppendAllTextAsync(historyFile.FullName, report + Environment.NewLine, cancellationToken);
        }

        return 0;
    }

    var size = parse.GetValue(chatSize);
    IChatTransport transport = parse.GetValue(workloadName) switch
    {
        "relay" => new BareRelayTransport(one),
        "xmpp" => new XmppTransport(one),
        _ => new WhisperHubTransport(one),
    };
    var workload = new ChatWorkload(transport, parse.GetValue(users), size, onePid);
    await workload.SetUpAsync(cancellationToken);
    var offered = parse.GetValue(rates)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
    if (parse.GetValue(warmUp) is > 0 and var warmUpSeconds)
    {
        // A fresh .NET process compiles and recompiles its hot code (tiered JIT) for its first minute or
        // so; measured from a cold start, the first rate would mostly measure the compiler.
        var warm = await workload.RunAsync(offered.Min(), TimeSpan.FromSeconds(warmUpSeconds), cancellationToken);
        Console.WriteLine($"warm-up: {warm.ToRow()}");
    }

    var results = new List<LoadResult>();
    foreach (var rate in offered)
    {
        var result = await workload.RunAsync(rate, TimeSpan.FromSeconds(parse.GetValue(seconds)), cancellationToken);
        Console.WriteLine(result.ToRow());
        results.Add(result);
    }

    await workload.DisposeAsync();
    var title = size == 2
        ? $"W2 one-to-one: {parse.GetValue(label)}, {workload.ChatCount * 2} users in {workload.ChatCount} direct chats, {workload.Transport}"
        : $"W3 group fan-out: {parse.GetValue(label)}, {workload.ChatCount} groups of {size} members, {workload.Transport}";
    var table = LoadResult.Table(title, results);
    Console.WriteLine(table);
    if (parse.GetValue(output) is { } file)
    {
        await File.AppendAllTextAsync(file.FullName, table + Environment.NewLine, cancellationToken);
    }

    if (parse.GetValue(csv) is { } csvFile)
    {
        await Plots.AppendAsync(csvFile, parse.GetValue(chart)!, parse.GetValue(label)!, results, cancellationToken);
    }

    // Nothing may be lost or duplicated, whatever the load.
    return results.All(r => r.Lost == 0 && r.Duplicated == 0) ? 0 : 1;
});
// bench plot --csv figures.csv --out docs/benchmarks: the charts for docs/BENCHMARKS.md.
var plotCsv = new Option<FileInfo>("--csv") { Description = "Figures written by --csv runs.", Required = true };
var plotOut = new Option<DirectoryInfo>("--out") { Description = "Where the PNGs go.", Required = true };
var plotTitle = new Option<string[]>("--title") { Description = "chart=title, one per chart.", AllowMultipleArgumentsPerToken = true };
var plotCommand = new Command("plot", "Draws latency against offered load for every chart in the CSV.") { plotCsv, plotOut, plotTitle };
plotCommand.SetAction(parse =>
{
    var titles = (parse.GetValue(plotTitle) ?? []).Select(t => t.Split('=', 2)).ToDictionary(t => t[0], t => t[1]);
    Plots.Draw(parse.GetValue(plotCsv)!, parse.GetValue(plotOut)!, titles);
});
root.Subcommands.Add(plotCommand);

// bench connections-worker: holds W1's sockets for one node, steered by the connections workload (IdleConnections).
var workerServer = new Option<string>("--server") { Required = true };
var workerTokens = new Option<FileInfo>("--tokens") { Description = "Access tokens, one per line.", Required = true };
var workerInFlight = new Option<int>("--in-flight") { Description = "Connects at a time.", DefaultValueFactory = _ => 64 };
var workerCommand = new Command("connections-worker", "Holds idle connections to one server, as the connections workload asks on standard input.") { workerServer, workerTokens, workerInFlight };
workerCommand.SetAction((parse, cancellationToken) =>
    IdleConnections.ServeAsync(new Uri(parse.GetValue(workerServer)!), parse.GetValue(workerTokens)!, parse.GetValue(workerInFlight), cancellationToken));
root.Subcommands.Add(workerCommand);

return await root.Parse(args).InvokeAsync();
