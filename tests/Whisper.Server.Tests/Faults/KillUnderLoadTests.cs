using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// A server process killed with SIGKILL in the middle of a load and started again on the same data:
/// no message whose send was answered is lost or stored twice, and the clients carry on by themselves.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class KillUnderLoadTests
{
    private const int Clients = 50;
    private const int AcknowledgedBeforeKill = 300;

    /// <summary>From the kill until every client has had a send acknowledged again (restart included).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_server_killed_under_load_on_SQLite_loses_and_duplicates_no_acknowledged_message()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The SQLite variant runs in the SQLite pass; the scaled-out pass runs the PostgreSQL one.");
        await KillUnderLoadAsync(new NodeSetup());
    }

    [Fact]
    public async Task A_server_killed_under_load_on_PostgreSQL_loses_and_duplicates_no_acknowledged_message()
    {
        ServerNode.RequireCluster();
        await KillUnderLoadAsync(NodeSetup.ForThisPass());
    }

    private static async Task KillUnderLoadAsync(NodeSetup setup)
    {
        var phases = new PhaseLog();
        await using var node = await ServerNode.StartAsync(setup);
        phases.Mark("server started");
        await using var clients = await LoadClients.CreateAsync(Clients, _ => node.BaseAddress);
        phases.Mark($"{Clients} clients registered, chats made, hubs connected");
        // Stopped by the test once every client is through again; the bound only ends a load the test lost control of.
        await using var load = SendLoad.Start(clients.All, messagesPerClient: 1000, bound: TimeSpan.FromSeconds(90));

        // Mid-load: the server has answered many sends and has many more in flight.
        await Waits.UntilAsync(() => Task.FromResult(load.Acknowledged >= AcknowledgedBeforeKill),
            $"{AcknowledgedBeforeKill} acknowledged messages before the kill", TimeSpan.FromSeconds(30));
        var killedAt = DateTime.UtcNow;
        node.Kill();
        var acknowledgedBeforeKill = load.Acknowledged;
        phases.Mark($"killed after {acknowledgedBeforeKill} acknowledged");
        await node.RestartAsync();
        var restartedAfter = DateTime.UtcNow - killedAt;
        phases.Mark("restarted and ready");

        // Every client gets through again by itself: REST clients by retrying, hub clients once their hub has reconnected.
        await Waits.UntilAsync(() => Task.FromResult(load.EveryClientAnsweredSince(clients.All, killedAt) is not null),
            "every client to have a send acknowledged after the restart", RecoveryBound - (DateTime.UtcNow - killedAt));
        var recovery = load.EveryClientAnsweredSince(clients.All, killedAt)!.Value - killedAt;
        var firstAnswer = load.FirstAnswerSince(killedAt)!.Value - killedAt;
        await load.StopAsync();
        phases.Mark("every client through again; load stopped");
        // Sends the kill cut off: the client could not tell whether they were stored. Those the killed
        // process had committed come back on retry as the stored message, not as a second copy.
        var cutOff = load.Acknowledgements.Where(a => a.FirstAttemptAt < killedAt && a.AnsweredAt > killedAt).ToList();
        var storedBeforeKill = cutOff.Count(a => a.Message.CreatedAt < killedAt);

        var audit = await StoreAudit.CheckAsync(load, clients);
        var problems = audit.Problems
            .Concat(await StoreAudit.CheckHubClientsAsync(clients))
            .Concat((await Task.WhenAll(clients.All.Where(c => c.Hub is null).Select(StoreAudit.CheckCatchUpAsync))).SelectMany(p => p))
            .Concat(load.Abandoned.Select(a => $"{a.ClientMessageId} was never acknowledged: {a.LastError}"))
            .ToList();
        phases.Mark("store, live views and catch-up checked");
        ReliabilityReport.Write(new ReliabilityFigures(
            "server process killed (SIGKILL) under load, restarted on the same data", setup.Describe(),
            load.Sent, load.Acknowledged, audit.Lost, audit.Duplicated, recovery,
            $"{Clients} clients (half REST, half hub) at full speed in {clients.ChatIds.Count} chats, killed after {acknowledgedBeforeKill} acknowledged; " +
            $"ready again after {restartedAfter.TotalSeconds:0.0} s, first answer after {firstAnswer.TotalSeconds:0.0} s; " +
            $"{cutOff.Count} sends cut off by the kill, {storedBeforeKill} of them already stored and answered on retry; " +
            $"{audit.Stored} stored, {audit.SeqSummary}; {load.Attempts} attempts; failed: {load.FailureSummary}"));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems.Take(20)));
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.Duplicated);
        Assert.Equal(load.Sent, load.Acknowledged);
        Assert.Equal(load.Acknowledged, audit.Stored);
    }
}
