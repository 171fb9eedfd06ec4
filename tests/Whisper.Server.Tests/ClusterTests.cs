using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Client;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>Two server processes on one PostgreSQL and one Redis act as one Whisper.</summary>
public sealed class ClusterTests(Cluster cluster) : IClassFixture<Cluster>
{
    /// <summary>
    /// A node given Redis but no shared signing key signs with a key of its own, which the other nodes refuse:
    /// it says so in its log rather than leaving the operator with 401s that look like a bug elsewhere.
    /// </summary>
    [Fact]
    public async Task A_node_with_Redis_but_no_shared_signing_key_warns_that_other_nodes_will_refuse_its_tokens()
    {
        ServerNode.RequireCluster();
        var redis = Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS")!;
        const string warning = "Whisper:Jwt:SigningKey is not";
        await using var unshared = await ServerNode.StartAsync(new NodeSetup { Redis = redis, SigningKey = "" });
        await using var shared = await ServerNode.StartAsync(new NodeSetup { Redis = redis });

        // The key is made when the first token is signed.
        await unshared.RegisterAsync();
        await shared.RegisterAsync();
        await Waits.UntilAsync(() => Task.FromResult(unshared.LastOutput.Any(line => line.Contains(warning, StringComparison.Ordinal))),
            "the node without a shared key to warn", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(shared.LastOutput, line => line.Contains(warning, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_on_different_nodes_chat_with_receipts_typing_and_presence()
    {
        ServerNode.RequireCluster();
        var alice = await cluster.A.RegisterAsync();
        var bob = cluster.B.As(await cluster.A.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var alicePhone = await Device.ConnectAsync(cluster.A.BaseAddress, alice);
        await using var bobPhone = await Device.ConnectAsync(cluster.B.BaseAddress, bob);
        await alicePhone.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && p.Online);

        var fromA = await alice.SendAsync(chat.Id, "hello from node A");
        Assert.Equal("hello from node A", (await bobPhone.WaitForMessage(m => m.Id == fromA.Id)).Content);
        var fromB = await bobPhone.Connection.InvokeAsync<Message>("SendMessage", chat.Id.ToString(), new NewMessage("hello from node B"));
        await alicePhone.WaitForMessage(m => m.Id == fromB.Id);

        await bobPhone.Connection.InvokeAsync("MarkRead", chat.Id.ToString(), fromA.Seq);
        await alicePhone.WaitFor<ReceiptUpdate>("receiptUpdated", r => r.UserId == bob.Id && r.Status == ReceiptStatus.Read && r.Seq == fromA.Seq);
        await alicePhone.Connection.InvokeAsync("Typing", chat.Id.ToString());
        await bobPhone.WaitFor<Typing>("typing", t => t.UserId == alice.Id);

        var sentinel = await alice.SendAsync(chat.Id, "sentinel");
        await bobPhone.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.Equal((1, 1), (bobPhone.CopiesOf(fromA.Id), alicePhone.CopiesOf(fromB.Id)));
        Assert.True((await alice.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen")).Online);
    }

    [Fact]
    public async Task Group_members_spread_over_nodes_all_receive_and_one_added_on_the_other_node_starts_receiving()
    {
        ServerNode.RequireCluster();
        var owner = await cluster.A.RegisterAsync();
        var onA = await cluster.A.RegisterAsync();
        var onB = cluster.B.As(await cluster.A.RegisterAsync());
        var latecomer = cluster.B.As(await cluster.A.RegisterAsync());
        var group = await owner.GroupAsync("spread", onA, onB);
        await using var deviceA = await Device.ConnectAsync(cluster.A.BaseAddress, onA);
        await using var deviceB = await Device.ConnectAsync(cluster.B.BaseAddress, onB);
        await using var lateDevice = await Device.ConnectAsync(cluster.B.BaseAddress, latecomer);

        var first = await owner.SendAsync(group.Id, "to both nodes");
        await deviceA.WaitForMessage(m => m.Id == first.Id);
        await deviceB.WaitForMessage(m => m.Id == first.Id);

        // Added through node A while connected to node B, without reconnecting.
        await (await owner.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { latecomer.Id } })).ShouldBe(HttpStatusCode.OK);
        await lateDevice.WaitFor<Chat>("chatCreated", c => c.Id == group.Id);
        var second = await owner.SendAsync(group.Id, "welcome");
        await lateDevice.WaitForMessage(m => m.Id == second.Id);

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{latecomer.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await lateDevice.WaitFor<MemberRemoval>("memberRemoved", r => r.UserId == latecomer.Id);
        var third = await owner.SendAsync(group.Id, "after removal");
        await deviceB.WaitForMessage(m => m.Id == third.Id);
        var direct = await owner.DirectChatWithAsync(latecomer);
        var sentinel = await owner.SendAsync(direct.Id, "sentinel");
        await lateDevice.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.Equal(0, lateDevice.CopiesOf(third.Id));
    }

    [Fact]
    public async Task A_session_revoked_on_one_node_is_refused_on_the_other_as_soon_as_the_notice_arrives()
    {
        ServerNode.RequireCluster();
        var bob = await cluster.A.RegisterAsync();
        var bobOnB = cluster.B.As(bob);
        await (await bobOnB.Http.GetAsync("/api/users/me")).ShouldBe(HttpStatusCode.OK);
        await using var bobsDeviceOnB = await Device.ConnectAsync(cluster.B.BaseAddress, bob);
        var closed = new TaskCompletionSource();
        bobsDeviceOnB.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        await (await bob.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);

        // Node B learns of it over Redis pub/sub, milliseconds later; its cached "live" answer must not outlast that.
        await Waits.UntilAsync(async () => (await bobOnB.Http.GetAsync("/api/users/me")).StatusCode == HttpStatusCode.Unauthorized,
            "node B to refuse the revoked session");
        await closed.Task.WaitAsync(Waits.Event);
        await (await bobOnB.Http.GetAsync("/api/users/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}

/// <summary>A member removed through one node may not send through the other once the notice has arrived.</summary>
public sealed class ClusterMembershipTests(Cluster cluster) : IClassFixture<Cluster>
{
    [Fact]
    public async Task A_member_removed_on_one_node_is_refused_on_the_other_as_soon_as_the_notice_arrives()
    {
        ServerNode.RequireCluster();
        var owner = await cluster.A.RegisterAsync();
        var member = cluster.B.As(await cluster.A.RegisterAsync());
        var group = await owner.GroupAsync("two nodes", member);
        // Node B now holds the group's member list in memory.
        await member.SendAsync(group.Id, "through node B");

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{member.Id}")).ShouldBe(HttpStatusCode.NoContent);

        // Node B learns of it over Redis pub/sub, milliseconds later; its cached member list must not outlast that.
        await Waits.UntilAsync(async () => (await member.Http.PostAsJsonAsync($"/api/chats/{group.Id}/messages", new { content = "probe" })).StatusCode == HttpStatusCode.NotFound,
            "node B to refuse the removed member");
        await (await member.Http.GetAsync($"/api/chats/{group.Id}/messages")).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

/// <summary>Writers on both nodes at once, and a dependency that goes away and comes back.</summary>
public sealed class ClusterConsistencyTests(Cluster cluster) : IClassFixture<Cluster>
{
    [Fact]
    public async Task Concurrent_writers_on_both_nodes_get_one_gap_free_seq_and_one_direct_chat()
    {
        ServerNode.RequireCluster();
        var alice = await cluster.A.RegisterAsync();
        var bob = cluster.B.As(await cluster.A.RegisterAsync());

        var opened = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? alice.DirectChatWithAsync(bob) : bob.DirectChatWithAsync(alice)));
        Assert.Single(opened.Select(c => c.Id).Distinct());
        var chat = opened[0];

        var sent = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? alice : bob).SendAsync(chat.Id, $"m{i}")));

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), sent.Select(m => m.Seq).Order());
        var stored = await alice.GetAsync<Common.Page<Messages.MessageDto>>($"/api/chats/{chat.Id}/messages?limit=100");
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), stored.Items.Select(m => m.Seq));
    }

    [Fact]
    public async Task A_node_whose_redis_goes_away_is_not_ready_and_recovers_by_itself()
    {
        ServerNode.RequireCluster();
        var port = ServerNode.FreePort();
        var redisDirectory = Directory.CreateTempSubdirectory("whisper-redis");
        System.Diagnostics.Process StartRedis() => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-server",
            ["--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--dir", redisDirectory.FullName])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var redis = StartRedis();
        try
        {
            await using var node = await ServerNode.StartAsync($"whisper_ready_{Guid.NewGuid():N}", Convert.ToBase64String(new byte[32]),
                Cluster.PresenceExpiry, redis: $"127.0.0.1:{port}");
            Assert.True(await node.ReadyAsync());

            redis.Kill();
            await redis.WaitForExitAsync();
            // Said promptly, not just implied by a readiness check that hangs: a load balancer gives up after a second or two.
            await Waits.UntilAsync(async () => await node.ReadinessAsync(TimeSpan.FromSeconds(2)) == HttpStatusCode.ServiceUnavailable,
                "the node to answer /readyz with 503 within 2 s without Redis");

            redis = StartRedis();
            await Waits.UntilAsync(node.ReadyAsync, "the node to be ready again once Redis is back");
        }
        finally
        {
            redis.Kill();
            redis.Dispose();
            redisDirectory.Delete(recursive: true);
        }
    }
}

/// <summary>A node dies: its users turn offline by expiry, and nothing it acknowledged is lost.</summary>
public sealed class ClusterFailoverTests(FailoverCluster cluster) : IClassFixture<FailoverCluster>
{
    [Fact]
    public async Task Killing_a_node_turns_its_users_offline_within_the_expiry_and_loses_no_stored_message()
    {
        ServerNode.RequireCluster();
        var alice = await cluster.A.RegisterAsync();
        var bob = cluster.B.As(await cluster.A.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var alicesDevice = await Device.ConnectAsync(cluster.A.BaseAddress, alice);
        await using var bobsDevice = await Device.ConnectAsync(cluster.B.BaseAddress, bob);
        Assert.True((await bob.GetAsync<Users.LastSeenDto>($"/api/users/{alice.Id}/last-seen")).Online);
        var acknowledged = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            acknowledged.Add((await alice.SendAsync(chat.Id, $"m{i}")).Seq);
        }

        cluster.A.Kill();

        await Waits.UntilAsync(async () => (await bob.GetAsync<Users.LastSeenDto>($"/api/users/{alice.Id}/last-seen")).Online == false,
            "alice to turn offline after her node died");
        var stored = await bob.GetAsync<Common.Page<Messages.MessageDto>>($"/api/chats/{chat.Id}/messages?limit=100");
        Assert.Equal(acknowledged, stored.Items.Select(m => m.Seq));
        await alicesDevice.DisposeAsync();
    }
}
