using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Client;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// Connections opened and dropped in a tight loop, and a client that stops reading its socket, while a
/// pair of ordinary users keep talking in a group with both: the server's memory stays bounded, it forgets
/// every dropped connection, drops the stalled one, and every message of the pair arrives within its budget.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class ConnectionChurnTests
{
    private const int Churners = 4;
    private const int Cycles = 1000;

    /// <summary>The loop's time bound: a busy machine may not get through all the cycles (half must).</summary>
    private static readonly TimeSpan ChurnBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Resident memory the server may gain under the load: about twice what a healthy one gains here (30-75 MB),
    /// less than a leak of 64 KB per connection adds over the 1,400 connections (tried: it fails the test).
    /// </summary>
    private const long AllowedGrowthBytes = 100L * 1024 * 1024;

    /// <summary>An ordinary message must reach the other user within this, however busy the server is with the others.</summary>
    private static readonly TimeSpan DeliveryBudget = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Connections_dropped_in_a_tight_loop_and_a_reader_that_stalls_leave_memory_bounded_and_the_others_served()
    {
        var phases = new PhaseLog();
        // Workstation GC: the server's resident memory then follows what it holds, where Server GC's large
        // per-core budgets would hide a leak of tens of megabytes in their swings. Leaks are the same under both.
        var setup = NodeSetup.ForThisPass() with { Settings = new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" } };
        await using var node = await ServerNode.StartAsync(setup);
        phases.Mark("server started");
        var (alice, bob, stalled, feeder) = (await node.RegisterAsync(), await node.RegisterAsync(), await node.RegisterAsync(), await node.RegisterAsync());
        var churners = new TestUser[Churners];
        for (var i = 0; i < Churners; i++)
        {
            churners[i] = await node.RegisterAsync();
        }

        // One group for all: every message goes to the stalled reader too, and every churned connection
        // joins the group and turns its user online and offline for the pair to hear about.
        var group = await alice.GroupAsync("churn", [bob, stalled, .. churners]);
        // The stalled reader's own feed: enough to fill every buffer between the server and its socket.
        var feed = await feeder.DirectChatWithAsync(stalled);
        await using var aliceDevice = await Device.ConnectAsync(node.BaseAddress, alice);
        await using var bobDevice = await Device.ConnectAsync(node.BaseAddress, bob);
        await using var stalledSocket = await RawHubSocket.ConnectAsync(node.BaseAddress, stalled);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // It keeps pinging, so only the send timeout can tell that it never reads.
        var pinging = KeepPingingAsync(stalledSocket, stop.Token);

        // A round of everything first, so the baseline includes what warming up costs (JIT, pools, caches).
        await ChurnAsync(node, churners, 400, ChurnBound);
        await ExchangeAsync(aliceDevice, bobDevice, group.Id, () => false, limit: 20);
        var before = node.ResidentBytes();
        phases.Mark("users, chats and connections set up, warmed up");

        bool StalledDropped() => aliceDevice.All<PresenceUpdate>("presenceChanged").Any(p => p.UserId == stalled.Id && !p.Online);
        var churning = ChurnAsync(node, churners, Cycles, ChurnBound);
        var feeding = FeedAsync(feeder, feed.Id, StalledDropped);
        var peak = before;
        // The pair talks all the while the loop runs and the stalled reader is fed, until it is dropped.
        var exchange = await ExchangeAsync(aliceDevice, bobDevice, group.Id, () =>
        {
            peak = Math.Max(peak, node.ResidentBytes());
            return churning.IsCompleted && feeding.IsCompleted;
        }, limit: 5000);
        var churn = await churning;
        var (fed, stalledDroppedAfter) = await feeding;
        phases.Mark("connect/drop loop ended, stalled reader fed until dropped");

        // Every dropped connection is forgotten: its user is offline again.
        var offlineWatch = Stopwatch.StartNew();
        await Waits.UntilAsync(async () => await AllOfflineAsync(alice, churners), "every churned user to be offline again", TimeSpan.FromSeconds(15));
        var offlineAfter = offlineWatch.Elapsed;
        // The server lets go of a client that does not read, once its buffers are full for the send timeout (10 s).
        Assert.True(stalledDroppedAfter is not null, $"The server did not drop the client that stopped reading after {Mb(fed * FeedBytes)} MB were sent to it.");
        // Only Alice's and Bob's hub connections are left open: none of the churned ones, nor the stalled one, lingers.
        await Waits.UntilAsync(async () => await node.MetricAsync("signalr_server_active_connections") == 2,
            "the server to hold only the pair's two hub connections", TimeSpan.FromSeconds(15));

        // The heap may keep what the load made it grow to for a while; the bound allows for that, a leak would not settle under it.
        await Waits.UntilAsync(() => Task.FromResult(node.ResidentBytes() - before < AllowedGrowthBytes),
            $"the server's memory to settle within {AllowedGrowthBytes / 1024 / 1024} MB of where it started", TimeSpan.FromSeconds(20));
        var after = node.ResidentBytes();
        phases.Mark("cleaned up and settled");
        await stop.CancelAsync();
        await pinging;

        ReliabilityReport.Write(new ReliabilityFigures(
            "hub connections opened and dropped in a tight loop, plus a client that stops reading", setup.Describe(),
            exchange.Sent, exchange.Delivered, exchange.Sent - exchange.Delivered, exchange.Duplicated, Recovery: null,
            $"{churn.Cycles} connect/drop cycles by {Churners} tasks in {churn.Elapsed.TotalSeconds:0.0} s (half closed, half aborted; {churn.Failures} failed), then 2 hub connections left open; " +
            $"RSS {Mb(before)} MB before, {Mb(peak)} MB peak, {Mb(after)} MB after; pair's slowest delivery {exchange.Slowest.TotalSeconds:0.00} s; " +
            $"churned users offline {offlineAfter.TotalSeconds:0.0} s after the loop; stalled reader sent {Mb(fed * FeedBytes)} MB, dropped {stalledDroppedAfter!.Value.TotalSeconds:0.0} s after the feed began (send timeout 10 s)"));

        Assert.True(peak - before < AllowedGrowthBytes, $"The server's memory grew from {Mb(before)} MB to {Mb(peak)} MB under the load.");
        Assert.True(churn.Cycles >= Cycles / 2, $"Only {churn.Cycles} of {Cycles} cycles ran within {ChurnBound.TotalSeconds} s.");
        Assert.True(churn.Failures <= churn.Cycles / 100, $"{churn.Failures} of {churn.Cycles} connections failed.");
        Assert.Equal(exchange.Sent, exchange.Delivered);
        Assert.Equal(0, exchange.Duplicated);
    }

    private sealed record ChurnResult(int Cycles, int Failures, TimeSpan Elapsed);

    private sealed record ExchangeResult(int Sent, int Delivered, int Duplicated, TimeSpan Slowest);

    /// <summary>
    /// Each churner connects and drops in a loop: every other time a clean close, otherwise the socket
    /// is cut without a close frame, as a crashed device would. Bounded in count and in time.
    /// </summary>
    private static async Task<ChurnResult> ChurnAsync(ServerNode node, TestUser[] churners, int cycles, TimeSpan bound)
    {
        using var stop = new CancellationTokenSource(bound);
        var watch = Stopwatch.StartNew();
        var (done, failures) = (0, 0);
        await Task.WhenAll(churners.Select(user => Task.Run(async () =>
        {
            for (var i = 0; i < cycles / churners.Length && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    if (i % 2 == 0)
                    {
                        await using var connection = new HubConnectionBuilder()
                            .WithUrl(new Uri(node.BaseAddress, "hubs/chat"), options =>
                            {
                                options.AccessTokenProvider = () => Task.FromResult<string?>(user.Session.AccessToken);
                                options.SkipNegotiation = true;
                                options.Transports = HttpTransportType.WebSockets;
                            })
                            .Build();
                        await connection.StartAsync(stop.Token);
                        await connection.StopAsync(stop.Token);
                    }
                    else
                    {
                        await using var raw = await RawHubSocket.ConnectAsync(node.BaseAddress, user);
                        raw.Abort();
                    }

                    Interlocked.Increment(ref done);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is HttpRequestException or System.Net.WebSockets.WebSocketException or IOException or TimeoutException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));
        return new ChurnResult(done, failures, watch.Elapsed);
    }

    /// <summary>
    /// Alice and Bob take turns: one sends over the hub, and the other's device must have it within the
    /// budget before the next goes. Runs until <paramref name="enough"/> says so, or the limit.
    /// </summary>
    private static async Task<ExchangeResult> ExchangeAsync(Device alice, Device bob, Guid chatId, Func<bool> enough, int limit)
    {
        var (sent, delivered, slowest) = (0, 0, TimeSpan.Zero);
        var ids = new List<Guid>();
        var payload = new string('x', 2000);
        while (sent < limit && !enough())
        {
            var (from, to) = sent % 2 == 0 ? (alice, bob) : (bob, alice);
            var watch = Stopwatch.StartNew();
            using var timeout = new CancellationTokenSource(DeliveryBudget);
            Assert.True(from.Connection.State == HubConnectionState.Connected, $"{(sent % 2 == 0 ? "Alice" : "Bob")}'s connection {from.ClosedBecause ?? $"is {from.Connection.State}"} before message {sent + 1} of the pair.");
            var message = await from.Connection.InvokeAsync<Message>("SendMessage", chatId.ToString(), new NewMessage(payload), timeout.Token);
            sent++;
            ids.Add(message.Id);
            await Waits.UntilAsync(() => Task.FromResult(to.CopiesOf(message.Id) > 0), $"message {sent} of the pair to reach the other within its {DeliveryBudget.TotalSeconds} s budget", DeliveryBudget - watch.Elapsed);
            delivered++;
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
        }

        var duplicated = ids.Select((id, i) => (i % 2 == 0 ? bob : alice).CopiesOf(id) - 1).Sum();
        return new ExchangeResult(sent, delivered, duplicated, slowest);
    }

    /// <summary>4,000 characters (the most a message may have) that the hub's JSON writes as 6 bytes each (\u20AC): 24 KB per message.</summary>
    private const string FeedCharacter = "€";

    private const int FeedBytes = 4000 * 6;

    /// <summary>
    /// Large messages to the client that stopped reading, 8 at a time, until the server drops it (the kernel's
    /// and the server's buffers full, then the send timeout), bounded by 2,000 messages (45 MB on the wire) and
    /// 45 s, and then up to 20 s more for the drop. Returns how many, and when the drop was seen (null if it was not).
    /// </summary>
    private static async Task<(int Sent, TimeSpan? DroppedAfter)> FeedAsync(TestUser feeder, Guid chatId, Func<bool> dropped)
    {
        const int Limit = 2000;
        var bound = TimeSpan.FromSeconds(45);
        var watch = Stopwatch.StartNew();
        var payload = string.Concat(Enumerable.Repeat(FeedCharacter, 4000));
        var sent = 0;
        while (sent < Limit && watch.Elapsed < bound && !dropped())
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => feeder.SendAsync(chatId, payload)));
            sent += 8;
        }

        // On a fast machine the limit comes before the send timeout has run out: the drop is still to come,
        // whether or not more is sent. Waited for, bounded by the send timeout and a margin.
        var feedEnded = watch.Elapsed;
        while (!dropped() && watch.Elapsed - feedEnded < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }

        return (sent, dropped() ? watch.Elapsed : null);
    }

    private static async Task<bool> AllOfflineAsync(TestUser watcher, IEnumerable<TestUser> users)
    {
        foreach (var user in users)
        {
            if ((await watcher.GetAsync<Users.LastSeenDto>($"/api/users/{user.Id}/last-seen")).Online != false)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task KeepPingingAsync(RawHubSocket socket, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await socket.PingAsync(stop);
                await Task.Delay(1000, stop);
            }
            catch (Exception exception) when (exception is OperationCanceledException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private static long Mb(long bytes) => bytes / 1024 / 1024;
}
