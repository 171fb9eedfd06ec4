using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class ReceiptTests(SharedServer server)
{
    private static Task<HttpResponseMessage> Mark(TestUser user, Guid messageId, string status, string path = "messages") =>
        user.Http.PostAsJsonAsync($"/api/{path}/{messageId}/status", new { status });

    [Fact]
    public async Task Marking_a_message_marks_every_earlier_one_and_nothing_later()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var m1 = await alice.SendAsync(chat.Id, "1");
        var m2 = await alice.SendAsync(chat.Id, "2");
        var m3 = await alice.SendAsync(chat.Id, "3");

        var marked = await Mark(bob, m2.Id, "delivered");
        await marked.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(ReceiptStatus.Delivered, (await marked.ReadAsync<MessageStatusDto>()).Status);

        Assert.Equal(ReceiptStatus.Delivered, (await alice.GetAsync<MessageStatusDto>($"/api/messages/{m1.Id}/status")).Status);
        Assert.Equal(ReceiptStatus.Sent, (await alice.GetAsync<MessageStatusDto>($"/api/messages/{m3.Id}/status")).Status);
        var history = await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages");
        Assert.Equal([ReceiptStatus.Delivered, ReceiptStatus.Delivered, ReceiptStatus.Sent], history.Items.Select(m => m.Status));
    }

    [Fact]
    public async Task Read_implies_delivered_and_watermarks_never_go_back()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var m1 = await alice.SendAsync(chat.Id, "1");
        var m2 = await alice.SendAsync(chat.Id, "2");

        await (await Mark(bob, m2.Id, "read")).ShouldBe(HttpStatusCode.OK);
        await (await Mark(bob, m1.Id, "delivered")).ShouldBe(HttpStatusCode.OK);

        var status = await alice.GetAsync<MessageStatusDto>($"/api/messages/{m2.Id}/status");
        Assert.Equal(ReceiptStatus.Read, status.Status);
        var bobsReceipt = Assert.Single(status.Recipients);
        Assert.Equal(bob.Id, bobsReceipt.UserId);
        Assert.NotNull(bobsReceipt.DeliveredAt);
        Assert.NotNull(bobsReceipt.ReadAt);
        Assert.Equal(ReceiptStatus.Read, (await alice.GetAsync<MessageStatusDto>($"/api/messages/{m1.Id}/status")).Status);
    }

    [Fact]
    public async Task Per_recipient_times_are_when_the_watermark_first_passed_that_message()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var m1 = await alice.SendAsync(chat.Id, "1");
        await Mark(bob, m1.Id, "read");
        var m2 = await alice.SendAsync(chat.Id, "2");
        await Mark(bob, m2.Id, "read");

        var first = Assert.Single((await alice.GetAsync<MessageStatusDto>($"/api/messages/{m1.Id}/status")).Recipients);
        var second = Assert.Single((await alice.GetAsync<MessageStatusDto>($"/api/messages/{m2.Id}/status")).Recipients);

        Assert.True(first.ReadAt < second.ReadAt);
    }

    /// <summary>A read is logged once, as a read; it still tells when it delivered what had not been delivered before.</summary>
    [Fact]
    public async Task A_read_is_when_it_delivered_what_no_earlier_mark_had()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var m1 = await alice.SendAsync(chat.Id, "1");
        var m2 = await alice.SendAsync(chat.Id, "2");
        await (await Mark(bob, m1.Id, "delivered")).ShouldBe(HttpStatusCode.OK);
        var logBefore = await server.QueryStoreAsync(db => db.ReceiptAdvances.CountAsync(a => a.ChatId == chat.Id));

        await (await Mark(bob, m2.Id, "read")).ShouldBe(HttpStatusCode.OK);

        var first = Assert.Single((await alice.GetAsync<MessageStatusDto>($"/api/messages/{m1.Id}/status")).Recipients);
        var second = Assert.Single((await alice.GetAsync<MessageStatusDto>($"/api/messages/{m2.Id}/status")).Recipients);
        Assert.True(first.DeliveredAt < first.ReadAt, "m1 was delivered by the earlier mark");
        Assert.Equal(second.ReadAt, first.ReadAt);
        Assert.NotNull(second.DeliveredAt);
        Assert.Equal(second.ReadAt, second.DeliveredAt);
        Assert.Equal(logBefore + 1, await server.QueryStoreAsync(db => db.ReceiptAdvances.CountAsync(a => a.ChatId == chat.Id)));
    }

    [Fact]
    public async Task A_group_message_is_read_once_every_recipient_has_read_it()
    {
        var (owner, bob, carol) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("readers", bob, carol);
        var message = await owner.SendAsync(group.Id, "everyone?");

        await Mark(bob, message.Id, "read");
        var partly = await owner.GetAsync<MessageStatusDto>($"/api/messages/{message.Id}/status");
        Assert.Equal(ReceiptStatus.Sent, partly.Status);
        Assert.Equal(ReceiptStatus.Read, partly.Recipients.Single(r => r.UserId == bob.Id).Status);
        Assert.Equal(ReceiptStatus.Sent, partly.Recipients.Single(r => r.UserId == carol.Id).Status);
        Assert.Null(partly.Recipients.Single(r => r.UserId == carol.Id).DeliveredAt);

        await Mark(carol, message.Id, "delivered");
        Assert.Equal(ReceiptStatus.Delivered, (await owner.GetAsync<MessageStatusDto>($"/api/messages/{message.Id}/status")).Status);
        await Mark(carol, message.Id, "read");
        Assert.Equal(ReceiptStatus.Read, (await owner.GetAsync<MessageStatusDto>($"/api/messages/{message.Id}/status")).Status);
    }

    /// <summary>Marks arriving together are stored together (group commit); each must still apply on its own terms.</summary>
    [Fact]
    public async Task Concurrent_marks_of_many_members_each_apply_and_none_moves_a_watermark_back()
    {
        var owner = await server.RegisterAsync();
        var members = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => server.RegisterAsync()));
        var group = await owner.GroupAsync("storm", members);
        var first = await owner.SendAsync(group.Id, "first");
        var last = await owner.SendAsync(group.Id, "last");

        // Everyone reads the last message at once; one of them also marks it again and marks the first delivered.
        var marks = members.Select(member => Mark(member, last.Id, "read"))
            .Concat([Mark(members[0], last.Id, "read"), Mark(members[0], first.Id, "delivered")]);
        foreach (var response in await Task.WhenAll(marks))
        {
            await response.ShouldBe(HttpStatusCode.OK);
        }

        var status = await owner.GetAsync<MessageStatusDto>($"/api/messages/{last.Id}/status");
        Assert.Equal(ReceiptStatus.Read, status.Status);
        Assert.Equal(members.Select(m => m.Id).Order(), status.Recipients.Select(r => r.UserId).Order());
        Assert.All(status.Recipients, r => Assert.True(r is { Status: ReceiptStatus.Read, DeliveredAt: not null, ReadAt: not null }));
        foreach (var member in members)
        {
            Assert.Equal(0, (await member.GetAsync<ChatDto>($"/api/chats/{group.Id}")).UnreadCount);
        }
    }

    [Fact]
    public async Task Members_who_joined_later_are_not_recipients_of_earlier_messages()
    {
        var (owner, bob, latecomer) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("late", bob);
        var before = await owner.SendAsync(group.Id, "before");
        await Mark(bob, before.Id, "read");

        await owner.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { latecomer.Id } });

        var status = await owner.GetAsync<MessageStatusDto>($"/api/messages/{before.Id}/status");
        Assert.Equal(ReceiptStatus.Read, status.Status);
        Assert.DoesNotContain(status.Recipients, r => r.UserId == latecomer.Id);
        Assert.Equal(0, (await latecomer.GetAsync<ChatDto>($"/api/chats/{group.Id}")).UnreadCount);
    }

    [Fact]
    public async Task Reading_clears_the_unread_count()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await alice.SendAsync(chat.Id, "1");
        var last = await alice.SendAsync(chat.Id, "2");
        Assert.Equal(2, (await bob.GetAsync<ChatDto>($"/api/chats/{chat.Id}")).UnreadCount);

        await Mark(bob, last.Id, "read");

        Assert.Equal(0, (await bob.GetAsync<ChatDto>($"/api/chats/{chat.Id}")).UnreadCount);
    }

    [Fact]
    public async Task Own_and_deleted_messages_after_the_read_watermark_are_not_unread()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await Mark(bob, (await alice.SendAsync(chat.Id, "read already")).Id, "read");
        var deletedOfAlice = await alice.SendAsync(chat.Id, "deleted by alice");
        await alice.SendAsync(chat.Id, "unread 1");
        var deletedOfBob = await bob.SendAsync(chat.Id, "bob's own, deleted");
        await bob.SendAsync(chat.Id, "bob's own");
        await alice.SendAsync(chat.Id, "unread 2");
        await (await alice.Http.DeleteAsync($"/api/messages/{deletedOfAlice.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await bob.Http.DeleteAsync($"/api/messages/{deletedOfBob.Id}")).ShouldBe(HttpStatusCode.NoContent);

        Assert.Equal(2, (await bob.GetAsync<ChatDto>($"/api/chats/{chat.Id}")).UnreadCount);
        Assert.Equal(1, (await alice.GetAsync<ChatDto>($"/api/chats/{chat.Id}")).UnreadCount);
        Assert.Equal(2, (await bob.GetAsync<Page<ChatDto>>("/api/chats")).Items.Single().UnreadCount);
    }

    [Fact]
    public async Task The_singular_path_of_the_first_api_version_works_too()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var message = await alice.SendAsync(chat.Id, "legacy");

        await (await Mark(bob, message.Id, "read", path: "message")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(ReceiptStatus.Read, (await alice.GetAsync<MessageStatusDto>($"/api/message/{message.Id}/status")).Status);
    }

    [Fact]
    public async Task Senders_outsiders_and_bad_statuses_are_refused()
    {
        var (alice, bob, outsider) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var message = await alice.SendAsync(chat.Id, "mine");

        await (await Mark(alice, message.Id, "read")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await Mark(outsider, message.Id, "read")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync($"/api/messages/{message.Id}/status")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Mark(bob, message.Id, "sent")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await Mark(bob, message.Id, "seen")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await bob.Http.PostAsJsonAsync($"/api/messages/{message.Id}/status", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await Mark(bob, Guid.NewGuid(), "read")).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}
