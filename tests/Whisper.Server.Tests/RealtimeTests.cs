using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Whisper.Client;
using Whisper.Server.Realtime;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class RealtimeTests(SharedServer server)
{
    private static Task<Message> SendOverHub(Device device, Guid chatId, string content) =>
        device.Connection.InvokeAsync<Message>("SendMessage", chatId.ToString(), new NewMessage(content));

    [Fact]
    public async Task A_rest_send_reaches_every_device_of_every_member_exactly_once()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var alicePhone = await Device.ConnectAsync(server, alice);
        await using var aliceLaptop = await Device.ConnectAsync(server, alice);
        await using var bobPhone = await Device.ConnectAsync(server, bob);

        var sent = await alice.SendAsync(chat.Id, "to everyone");
        var sentinel = await alice.SendAsync(chat.Id, "after");

        foreach (var device in new[] { alicePhone, aliceLaptop, bobPhone })
        {
            await device.WaitForMessage(m => m.Id == sentinel.Id);
            Assert.Equal(1, device.CopiesOf(sent.Id));
        }
    }

    [Theory]
    [InlineData(HubProtocolKind.Json)]
    [InlineData(HubProtocolKind.MessagePack)]
    public async Task A_hub_send_answers_the_sender_and_reaches_the_others_exactly_once(HubProtocolKind protocol)
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var alicePhone = await Device.ConnectAsync(server, alice, protocol);
        await using var aliceLaptop = await Device.ConnectAsync(server, alice, protocol);
        await using var bobPhone = await Device.ConnectAsync(server, bob, protocol);

        var sent = await SendOverHub(alicePhone, chat.Id, "over the hub");
        var sentinel = await alice.SendAsync(chat.Id, "after");

        Assert.Equal((1L, "over the hub"), (sent.Seq, sent.Content));
        var received = await bobPhone.WaitForMessage(m => m.Id == sent.Id);
        Assert.Equal("over the hub", received.Content);
        Assert.Equal(ReceiptStatus.Sent, received.Status);
        await aliceLaptop.WaitForMessage(m => m.Id == sentinel.Id);
        await alicePhone.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.Equal((0, 1, 1), (alicePhone.CopiesOf(sent.Id), aliceLaptop.CopiesOf(sent.Id), bobPhone.CopiesOf(sent.Id)));
        Assert.Single((await alice.GetAsync<Common.Page<Messages.MessageDto>>($"/api/chats/{chat.Id}/messages")).Items, m => m.Id == sent.Id);
    }

    [Fact]
    public async Task Group_messages_reach_every_member_and_no_outsider()
    {
        var users = await server.RegisterManyAsync(5);
        var outsider = await server.RegisterAsync();
        var group = await users[0].GroupAsync("five", users[1..]);
        var devices = await Task.WhenAll(users.Select(u => Device.ConnectAsync(server, u)));
        await using var outsiderDevice = await Device.ConnectAsync(server, outsider);
        var outsiderChat = await users[0].DirectChatWithAsync(outsider);

        var sent = await Task.WhenAll(users.Select((u, i) => u.SendAsync(group.Id, $"from {i}")));
        var sentinel = await users[0].SendAsync(outsiderChat.Id, "sentinel");

        await outsiderDevice.WaitForMessage(m => m.Id == sentinel.Id);
        foreach (var device in devices)
        {
            foreach (var message in sent)
            {
                await device.WaitForMessage(m => m.Id == message.Id);
                Assert.Equal(1, device.CopiesOf(message.Id));
            }

            await device.DisposeAsync();
        }

        Assert.DoesNotContain(outsiderDevice.All<Message>("messageCreated"), m => m.ChatId == group.Id);
    }

    [Fact]
    public async Task Members_added_while_connected_start_receiving_and_removed_ones_stop_at_once()
    {
        var (owner, joiner, other) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("changing", other);
        var direct = await owner.DirectChatWithAsync(joiner);
        await using var joinerDevice = await Device.ConnectAsync(server, joiner);
        await using var otherDevice = await Device.ConnectAsync(server, other);

        await (await owner.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { joiner.Id } })).ShouldBe(HttpStatusCode.OK);
        var created = await joinerDevice.WaitFor<Chat>("chatCreated", c => c.Id == group.Id);
        Assert.Equal(3, created.Members.Count);
        Assert.Equal(3, (await otherDevice.WaitFor<Chat>("chatUpdated", c => c.Id == group.Id)).Members.Count);
        var welcome = await owner.SendAsync(group.Id, "welcome");
        await joinerDevice.WaitForMessage(m => m.Id == welcome.Id);

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{joiner.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await joinerDevice.WaitFor<MemberRemoval>("memberRemoved", r => r.ChatId == group.Id && r.UserId == joiner.Id);
        await otherDevice.WaitFor<MemberRemoval>("memberRemoved", r => r.UserId == joiner.Id);
        var secret = await owner.SendAsync(group.Id, "after you left");
        var sentinel = await owner.SendAsync(direct.Id, "sentinel");

        await joinerDevice.WaitForMessage(m => m.Id == sentinel.Id);
        await otherDevice.WaitForMessage(m => m.Id == secret.Id);
        Assert.Equal(0, joinerDevice.CopiesOf(secret.Id));
    }

    [Fact]
    public async Task New_chats_renames_edits_and_deletes_are_announced()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        await using var bobDevice = await Device.ConnectAsync(server, bob);

        var group = await alice.GroupAsync("first name", bob);
        Assert.Equal("first name", (await bobDevice.WaitFor<Chat>("chatCreated", c => c.Id == group.Id)).Name);
        await alice.Http.PutAsJsonAsync($"/api/chats/{group.Id}", new { name = "second name" });
        await bobDevice.WaitFor<Chat>("chatUpdated", c => c.Id == group.Id && c.Name == "second name");

        var message = await alice.SendAsync(group.Id, "draft");
        await alice.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "final" });
        await bobDevice.WaitFor<Message>("messageUpdated", m => m.Id == message.Id && m.Content == "final" && m.EditedAt != null);
        await alice.Http.DeleteAsync($"/api/messages/{message.Id}");
        await bobDevice.WaitFor<Message>("messageUpdated", m => m.Id == message.Id && m.DeletedAt != null && m.Content == null);
    }

    [Fact]
    public async Task Receipts_from_the_hub_advance_watermarks_and_reach_the_sender()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var aliceDevice = await Device.ConnectAsync(server, alice);
        await using var bobDevice = await Device.ConnectAsync(server, bob);
        var first = await alice.SendAsync(chat.Id, "1");
        var second = await alice.SendAsync(chat.Id, "2");

        await bobDevice.Connection.InvokeAsync("MarkDelivered", chat.Id.ToString(), second.Seq);
        var delivered = await aliceDevice.WaitFor<ReceiptUpdate>("receiptUpdated", r => r.UserId == bob.Id && r.Status == ReceiptStatus.Delivered);
        Assert.Equal((chat.Id, 2L), (delivered.ChatId, delivered.Seq));

        await bobDevice.Connection.InvokeAsync("MarkRead", chat.Id.ToString(), first.Seq);
        await aliceDevice.WaitFor<ReceiptUpdate>("receiptUpdated", r => r.UserId == bob.Id && r.Status == ReceiptStatus.Read && r.Seq == 1);

        var status = await alice.GetAsync<Receipts.MessageStatusDto>($"/api/messages/{second.Id}/status");
        Assert.Equal(Receipts.ReceiptStatus.Delivered, status.Status);
        Assert.Equal(Receipts.ReceiptStatus.Read, (await alice.GetAsync<Receipts.MessageStatusDto>($"/api/messages/{first.Id}/status")).Status);
    }

    [Fact]
    public async Task A_group_receipt_reaches_the_senders_it_concerns_and_the_readers_devices_only()
    {
        var (alice, bob, carol, dave) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await alice.GroupAsync("receipts", bob, carol, dave);
        await alice.SendAsync(group.Id, "from alice");
        var fromBob = await bob.SendAsync(group.Id, "from bob");
        var fromDave = await dave.SendAsync(group.Id, "from dave, read later");
        await using var aliceDevice = await Device.ConnectAsync(server, alice);
        await using var bobDevice = await Device.ConnectAsync(server, bob);
        await using var carolPhone = await Device.ConnectAsync(server, carol);
        await using var carolLaptop = await Device.ConnectAsync(server, carol);
        await using var daveDevice = await Device.ConnectAsync(server, dave);

        await carolPhone.Connection.InvokeAsync("MarkRead", group.Id.ToString(), fromBob.Seq);

        bool Carols(ReceiptUpdate r) => r.UserId == carol.Id && r.Seq == fromBob.Seq && r.Status == ReceiptStatus.Read;
        await aliceDevice.WaitFor<ReceiptUpdate>("receiptUpdated", Carols);
        await bobDevice.WaitFor<ReceiptUpdate>("receiptUpdated", Carols);
        await carolLaptop.WaitFor<ReceiptUpdate>("receiptUpdated", Carols);
        // Dave's message is after the mark, so that receipt changed nothing of his; the one that covers it reaches
        // him, and receipts reach a connection in order, so the first would have arrived before it.
        await carolPhone.Connection.InvokeAsync("MarkRead", group.Id.ToString(), fromDave.Seq);
        await daveDevice.WaitFor<ReceiptUpdate>("receiptUpdated", r => r.UserId == carol.Id && r.Seq == fromDave.Seq);
        Assert.Equal([fromDave.Seq], daveDevice.All<ReceiptUpdate>("receiptUpdated").Select(r => r.Seq));
    }

    [Fact]
    public async Task Typing_reaches_the_other_members_not_the_typist()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var aliceDevice = await Device.ConnectAsync(server, alice);
        await using var bobDevice = await Device.ConnectAsync(server, bob);

        await bobDevice.Connection.InvokeAsync("Typing", chat.Id.ToString());

        var typing = await aliceDevice.WaitFor<Typing>("typing");
        Assert.Equal((chat.Id, bob.Id), (typing.ChatId, typing.UserId));
        var sentinel = await alice.SendAsync(chat.Id, "sentinel");
        await bobDevice.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.Empty(bobDevice.All<Typing>("typing"));
    }

    [Fact]
    public async Task Presence_follows_connections_and_last_seen_is_stored_on_the_last_disconnect()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        await alice.DirectChatWithAsync(bob);
        await using var aliceDevice = await Device.ConnectAsync(server, alice);

        var bobPhone = await Device.ConnectAsync(server, bob);
        var bobLaptop = await Device.ConnectAsync(server, bob);
        await aliceDevice.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && p.Online);
        Assert.True((await alice.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen")).Online);

        await bobPhone.DisposeAsync();
        Assert.True((await alice.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen")).Online);
        await bobLaptop.DisposeAsync();

        var offline = await aliceDevice.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && !p.Online);
        Assert.NotNull(offline.LastSeenAt);
        var lastSeen = await alice.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen");
        Assert.Equal((false, offline.LastSeenAt), (lastSeen.Online, lastSeen.LastSeenAt));
        Assert.Single(aliceDevice.All<PresenceUpdate>("presenceChanged"), p => p.UserId == bob.Id && p.Online);
    }

    [Fact]
    public async Task A_presence_change_that_no_longer_holds_is_not_announced()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await using var aliceDevice = await Device.ConnectAsync(server, alice);
        await using var bobDevice = await Device.ConnectAsync(server, bob);
        await aliceDevice.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && p.Online);

        // The announcement of Bob's last device going away, arriving after a new device connected (as a reload's
        // two changes can race): Bob is online, so it goes nowhere. The sentinel would follow it on Alice's connection.
        using (var scope = server.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<ChatNotifier>().PresenceChangedAsync(bob.Id, online: false, CancellationToken.None);
        }

        var sentinel = await bob.SendAsync(chat.Id, "sentinel");
        await aliceDevice.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.DoesNotContain(aliceDevice.All<PresenceUpdate>("presenceChanged"), p => p.UserId == bob.Id && !p.Online);

        // A change that holds still goes out.
        await bobDevice.DisposeAsync();
        await aliceDevice.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && !p.Online);
    }

    [Theory]
    [InlineData("everyone", true, true)]
    [InlineData("contacts", true, false)]
    [InlineData("nobody", false, false)]
    public async Task Presence_honours_the_privacy_setting(string visibility, bool contactSees, bool strangerSees)
    {
        var (bob, contact, stranger) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await contact.DirectChatWithAsync(bob);
        await (await bob.Http.PutAsJsonAsync($"/api/users/{bob.Id}", new { lastSeenVisibility = visibility })).ShouldBe(HttpStatusCode.OK);
        await using var contactDevice = await Device.ConnectAsync(server, contact);

        await using (await Device.ConnectAsync(server, bob))
        {
            Assert.Equal(contactSees ? true : null, (await contact.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen")).Online);
            Assert.Equal(strangerSees ? true : null, (await stranger.GetAsync<Users.LastSeenDto>($"/api/users/{bob.Id}/last-seen")).Online);
        }

        var sentinel = await bob.SendAsync(chat.Id, "sentinel");
        await contactDevice.WaitForMessage(m => m.Id == sentinel.Id);
        if (contactSees)
        {
            await contactDevice.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == bob.Id && !p.Online);
        }
        else
        {
            Assert.Empty(contactDevice.All<PresenceUpdate>("presenceChanged"));
        }
    }

    [Fact]
    public async Task Invalid_tokens_cannot_connect()
    {
        var alice = await server.RegisterAsync();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Device.ConnectAsync(server, alice, token: "not-a-token"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task Logging_out_closes_the_session_s_connections_and_it_cannot_reconnect()
    {
        var alice = await server.RegisterAsync();
        await using var device = await Device.ConnectAsync(server, alice);
        var closed = new TaskCompletionSource();
        device.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        await (await alice.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);

        await closed.Task.WaitAsync(Waits.Event);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Device.ConnectAsync(server, alice));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task Bad_hub_calls_get_clear_refusals_and_the_connection_stays_up()
    {
        var (alice, bob, outsider) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var theirs = await bob.GroupAsync("not alice's", outsider);
        await using var device = await Device.ConnectAsync(server, alice);

        async Task<string> Refusal(Func<Task> call) => (await Assert.ThrowsAsync<HubException>(call)).Message;

        Assert.Contains("chatId must be an id", await Refusal(() => device.Connection.InvokeAsync<object>("SendMessage", "garbage", new { content = "x" })));
        Assert.Contains("Chat was not found", await Refusal(() => device.Connection.InvokeAsync<object>("SendMessage", theirs.Id.ToString(), new { content = "x" })));
        Assert.Contains("needs content", await Refusal(() => device.Connection.InvokeAsync<object>("SendMessage", chat.Id.ToString(), new { content = "" })));
        Assert.Contains("limited to 4000", await Refusal(() => device.Connection.InvokeAsync<object>("SendMessage", chat.Id.ToString(), new { content = new string('x', 4001) })));
        Assert.Contains("seq must be between", await Refusal(() => device.Connection.InvokeAsync("MarkRead", chat.Id.ToString(), 99L)));
        Assert.Contains("Chat was not found", await Refusal(() => device.Connection.InvokeAsync("Typing", theirs.Id.ToString())));
        await Refusal(() => device.Connection.InvokeAsync("SendMessage", chat.Id.ToString()));
        await Refusal(() => device.Connection.InvokeAsync("NoSuchMethod"));

        Assert.Equal(HubConnectionState.Connected, device.Connection.State);
        var ok = await SendOverHub(device, chat.Id, "still works");
        Assert.Equal(1L, ok.Seq);
    }
}
