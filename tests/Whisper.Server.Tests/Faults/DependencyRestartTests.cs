using System.Net.Http.Json;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Faults;

/// <summary>Two nodes of their own, for taking their shared PostgreSQL and Redis away under load.</summary>
public sealed class RestartCluster : Cluster;

/// <summary>
/// Clients on both nodes keep sending while PostgreSQL or Redis goes away and comes back: the nodes say
/// they are not ready while it is away, recover by themselves, and lose or duplicate nothing they acknowledged.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class DependencyRestartTests(RestartCluster cluster) : IClassFixture<RestartCluster>
{
    private const int Clients = 20;
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);

    /// <summary>How long the service stays away once both nodes have said they are not ready.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    [Fact]
    public Task PostgreSQL_restarted_under_load_loses_no_acknowledged_message_and_both_nodes_recover_by_themselves() =>
        RestartUnderLoadAsync("postgres", "PostgreSQL stopped (immediate) and started again under load, two nodes");

    [Fact]
    public Task Redis_restarted_under_load_loses_no_acknowledged_message_and_both_nodes_recover_by_themselves() =>
        RestartUnderLoadAsync("redis", "Redis killed (SIGKILL) and started again under load, two nodes");

    /// <summary>
    /// Redis stalled rather than gone (an overloaded or swapping Redis): commands time out, and StackExchange.Redis's
    /// timeout is a <see cref="TimeoutException"/>, not a RedisException. The presence refresh, which ticks every
    /// second with the cluster's 3 s expiry, once let it escape and stopped its node.
    /// </summary>
    [Fact]
    public async Task Redis_stalled_past_its_command_timeout_stops_no_node_and_delivery_across_nodes_resumes()
    {
        ServerNode.RequireCluster();
        var onA = await cluster.A.RegisterAsync();
        var onB = cluster.B.As(await cluster.A.RegisterAsync());
        var chat = await onA.DirectChatWithAsync(onB);
        await using var deviceOnA = await Device.ConnectAsync(cluster.A.BaseAddress, onA);
        await using var deviceOnB = await Device.ConnectAsync(cluster.B.BaseAddress, onB);
        await DeliveredAcrossNodesAsync(onA, deviceOnB, chat.Id);

        try
        {
            await TestServices.PauseRedisAsync();
            // Longer than StackExchange.Redis's 5 s command timeout, so the refreshes sent meanwhile time out.
            await Task.Delay(TimeSpan.FromSeconds(8));
        }
        finally
        {
            await TestServices.ResumeRedisAsync();
        }

        await Waits.UntilAsync(BothReadyAsync, "both nodes to be ready once Redis answers again", RecoveryBound);
        await DeliveredAcrossNodesAsync(onA, deviceOnB, chat.Id);
        await DeliveredAcrossNodesAsync(onB, deviceOnA, chat.Id);
        Assert.True(cluster.A.IsRunning && cluster.B.IsRunning, "A node stopped after Redis stalled.");

        async Task<bool> BothReadyAsync()
        {
            try
            {
                return await cluster.A.ReadyAsync() && await cluster.B.ReadyAsync();
            }
            catch (HttpRequestException exception)
            {
                // Refused, not merely not ready: the node's host has stopped.
                Assert.Fail($"A node stopped after Redis stalled: {exception.Message}");
                throw;
            }
        }
    }

    private async Task RestartUnderLoadAsync(string service, string fault)
    {
        ServerNode.RequireCluster();
        var phases = new PhaseLog();
        ServerNode[] nodes = [cluster.A, cluster.B];
        // Pairs span the nodes: client 2k on A, 2k+1 on B, so every direct chat and group crosses them.
        await using var clients = await LoadClients.CreateAsync(Clients, i => nodes[i % 2].BaseAddress);
        // Plain devices see live delivery itself (the client library would also fill a gap from history).
        var onA = await cluster.A.RegisterAsync();
        var onB = cluster.B.As(await cluster.A.RegisterAsync());
        var watched = await onA.DirectChatWithAsync(onB);
        await using var deviceOnA = await Device.ConnectAsync(cluster.A.BaseAddress, onA);
        await using var deviceOnB = await Device.ConnectAsync(cluster.B.BaseAddress, onB);

        phases.Mark("clients and watchers set up");
        // Stopped by the test once everything works again; the bound only ends a load the test lost control of.
        await using var load = SendLoad.Start(clients.All, messagesPerClient: 1000, bound: TimeSpan.FromSeconds(90));
        await Waits.UntilAsync(() => Task.FromResult(load.Acknowledged >= 200), "200 acknowledged messages before the restart", TimeSpan.FromSeconds(30));

        DateTime stoppedAt;
        TimeSpan notReadyAfter;
        int acknowledgedWhileAway;
        try
        {
            await TestServices.StopAsync(service);
            stoppedAt = DateTime.UtcNow;
            // Said, not just implied by silence: a load balancer's health check gives up after a second or two.
            await Waits.UntilAsync(async () => await NotReadyAsync(cluster.A) && await NotReadyAsync(cluster.B),
                $"both nodes to answer /readyz with 503 within 2 s without {service}", TimeSpan.FromSeconds(20));
            notReadyAfter = DateTime.UtcNow - stoppedAt;
            phases.Mark($"{service} stopped; both nodes not ready after {notReadyAfter.TotalSeconds:0.0} s");
            // An outage, not a blip: the load keeps running into it for a while.
            await Task.Delay(Outage);
            acknowledgedWhileAway = load.AcknowledgedSince(stoppedAt).Count();
        }
        finally
        {
            // Back in any case: the rest of the suite needs it.
            await TestServices.StartAsync(service);
        }

        var backAt = DateTime.UtcNow;
        phases.Mark($"{service} started again");

        await Waits.UntilAsync(async () => await cluster.A.ReadyAsync() && await cluster.B.ReadyAsync(),
            $"both nodes to be ready again once {service} is back", RecoveryBound);
        var readyAfter = DateTime.UtcNow - backAt;
        phases.Mark("both nodes ready");
        await Waits.UntilAsync(() => Task.FromResult(load.EveryClientAnsweredSince(clients.All, backAt) is not null),
            "every client on both nodes to have sends acknowledged again", RecoveryBound - (DateTime.UtcNow - backAt));
        var everyClientAfter = load.EveryClientAnsweredSince(clients.All, backAt)!.Value - backAt;
        await DeliveredAcrossNodesAsync(onA, deviceOnB, watched.Id);
        await DeliveredAcrossNodesAsync(onB, deviceOnA, watched.Id);
        var recovered = DateTime.UtcNow - backAt;
        phases.Mark("sends on both nodes and delivery across them work again");
        await load.StopAsync();

        var audit = await StoreAudit.CheckAsync(load, clients);
        var problems = audit.Problems
            .Concat(await StoreAudit.CheckHubClientsAsync(clients))
            .Concat(load.Abandoned.Select(a => $"{a.ClientMessageId} was never acknowledged: {a.LastError}"))
            .ToList();
        phases.Mark("store and live views checked");
        ReliabilityReport.Write(new ReliabilityFigures(fault, "PostgreSQL + Redis, 2 nodes", load.Sent, load.Acknowledged, audit.Lost, audit.Duplicated, recovered,
            $"{Clients} clients (half REST, half hub) at full speed over 2 nodes; away {(backAt - stoppedAt).TotalSeconds:0.0} s, " +
            $"both nodes not ready (503) {notReadyAfter.TotalSeconds:0.0} s after the stop; {acknowledgedWhileAway} acknowledged while it was away; " +
            $"after it was back: both ready in {readyAfter.TotalSeconds:0.0} s, every client served in {everyClientAfter.TotalSeconds:0.0} s, " +
            $"delivery across nodes in {recovered.TotalSeconds:0.0} s; {audit.Stored} stored, {audit.SeqSummary}; {load.Attempts} attempts; failed: {load.FailureSummary}"));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems.Take(20)));
        // A dependency away is the server's passing state: sends are refused as unavailable (503, or the hub's
        // "Service unavailable"), which clients retry, never answered as a server error (500).
        Assert.DoesNotContain(load.FailureKinds, kind =>
            kind.Contains("An error occurred while processing your request", StringComparison.Ordinal)
            || kind.Contains("unexpected error occurred invoking", StringComparison.Ordinal));
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.Duplicated);
        Assert.Equal(load.Sent, load.Acknowledged);
        Assert.Equal(load.Acknowledged, audit.Stored);
    }

    private static async Task<bool> NotReadyAsync(ServerNode node) =>
        await node.ReadinessAsync(TimeSpan.FromSeconds(2)) == System.Net.HttpStatusCode.ServiceUnavailable;

    /// <summary>
    /// A message sent on one node reaches a device on the other, live. Right after a recovery the first
    /// one may still be lost (nothing promises live delivery while a node resubscribes), so it sends a
    /// fresh one every couple of seconds until one arrives, within the recovery bound.
    /// </summary>
    private static async Task DeliveredAcrossNodesAsync(TestUser sender, Device receiver, Guid chatId)
    {
        var deadline = DateTime.UtcNow + RecoveryBound;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var response = await sender.Http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { content = "across nodes" }, Json.Options);
                if (response.IsSuccessStatusCode)
                {
                    var sent = await response.ReadAsync<Messages.MessageDto>();
                    await Waits.UntilAsync(() => Task.FromResult(receiver.CopiesOf(sent.Id) > 0), "delivery across nodes", TimeSpan.FromSeconds(2));
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or TimeoutException)
            {
                // Not yet: try again with a new message.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"No message sent on one node reached a device on the other within {RecoveryBound.TotalSeconds} s.");
    }
}
