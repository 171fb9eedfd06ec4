using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class MessageTests(SharedServer server)
{
    private async Task<(TestUser Alice, TestUser Bob, ChatDto Chat)> PairAsync()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        return (alice, bob, await alice.DirectChatWithAsync(bob));
    }

    [Fact]
    public async Task A_sent_message_is_stored_with_the_next_seq_and_the_contract_fields()
    {
        var (alice, bob, chat) = await PairAsync();

        var response = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "hello", clientMessageId = "c-1" });
        await response.ShouldBe(HttpStatusCode.Created);
        var json = await response.Content.ReadAsStringAsync();
        foreach (var field in new[] { "id", "chatId", "seq", "senderId", "type", "content", "file", "replyToId", "clientMessageId", "createdAt", "editedAt", "deletedAt", "status" })
        {
            Assert.Contains($"\"{field}\":", json);
        }

        var first = await response.ReadAsync<MessageDto>();
        var second = await bob.SendAsync(chat.Id, "hi");
        Assert.Equal((1L, 2L), (first.Seq, second.Seq));
        Assert.Equal((MessageType.Text, ReceiptStatus.Sent, alice.Id), (first.Type, first.Status, first.SenderId));
        Assert.EndsWith("Z", json.Split("\"createdAt\":\"")[1].Split('"')[0]);
    }

    [Fact]
    public async Task A_retry_with_the_same_client_message_id_returns_the_stored_message_and_stores_nothing()
    {
        var (alice, _, chat) = await PairAsync();
        var original = await alice.SendAsync(chat.Id, "once", clientMessageId: "retry-1");

        var retry = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "once", clientMessageId = "retry-1" });

        await retry.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(original.Id, (await retry.ReadAsync<MessageDto>()).Id);
        var history = await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages");
        Assert.Single(history.Items);
    }

    [Fact]
    public async Task Concurrent_retries_store_exactly_one_message()
    {
        var (alice, _, chat) = await PairAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "racing", clientMessageId = "race-1" })));

        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.Single((await Task.WhenAll(answers.Select(async a => (await a.ReadAsync<MessageDto>()).Id))).Distinct());
        Assert.Single((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items);
    }

    [Fact]
    public async Task Retries_mixed_with_new_messages_store_every_new_one_and_repeat_none()
    {
        var (alice, bob, chat) = await PairAsync();
        var originals = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => alice.SendAsync(chat.Id, $"original {i}", clientMessageId: $"mixed-{i}")));

        // Sent at once, so that retries and new messages are stored together.
        var retries = Enumerable.Range(0, 5).Select(i => alice.SendAsync(chat.Id, $"original {i}", clientMessageId: $"mixed-{i}"));
        var fresh = Enumerable.Range(0, 20).Select(i => bob.SendAsync(chat.Id, $"new {i}", clientMessageId: $"new-{i}"));
        var answers = await Task.WhenAll(retries.Concat(fresh));

        Assert.Equal(originals.Select(m => m.Id), answers.Take(5).Select(m => m.Id));
        var history = await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?limit=100");
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), history.Items.Select(m => m.Seq));
        Assert.Equal(answers.Skip(5).Select(m => m.Id).Order(), history.Items.Where(m => m.SenderId == bob.Id).Select(m => m.Id).Order());
    }

    [Fact]
    public async Task A_retry_gets_its_stored_message_even_when_its_file_was_deleted_since()
    {
        var (alice, _, chat) = await PairAsync();
        var file = await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "once.png", "image/png")).ReadAsync<Files.FileDto>();
        var send = new { content = "with a file", fileId = file.Id, clientMessageId = "file-retry" };
        var original = await (await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", send)).ReadAsync<MessageDto>();
        await (await alice.Http.DeleteAsync($"/api/files/{file.Id}")).ShouldBe(HttpStatusCode.NoContent);

        var retry = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", send);

        await retry.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(original.Id, (await retry.ReadAsync<MessageDto>()).Id);
        var fresh = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", send with { clientMessageId = "file-new" });
        await fresh.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_same_client_message_id_in_another_chat_is_a_conflict()
    {
        var (alice, bob, chat) = await PairAsync();
        var group = await alice.GroupAsync("other", bob);
        await alice.SendAsync(chat.Id, "first", clientMessageId: "shared-key");

        var reused = await alice.Http.PostAsJsonAsync($"/api/chats/{group.Id}/messages", new { content = "second", clientMessageId = "shared-key" });

        await reused.ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Concurrent_senders_get_gap_free_unique_seqs()
    {
        var (alice, bob, chat) = await PairAsync();

        var sent = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => (i % 2 == 0 ? alice : bob).SendAsync(chat.Id, $"m{i}")));

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), sent.Select(m => m.Seq).Order());
        var history = await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?limit=100");
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), history.Items.Select(m => m.Seq));
    }

    [Fact]
    public async Task History_pages_by_seq_cursors_in_ascending_order()
    {
        var (alice, bob, chat) = await PairAsync();
        for (var i = 1; i <= 7; i++)
        {
            await alice.SendAsync(chat.Id, $"m{i}");
        }

        var newest = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?limit=3");
        Assert.Equal([5L, 6L, 7L], newest.Items.Select(m => m.Seq));
        Assert.True(newest.HasMore);

        var older = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?limit=3&before=5");
        Assert.Equal([2L, 3L, 4L], older.Items.Select(m => m.Seq));
        Assert.True(older.HasMore);

        var oldest = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?limit=3&before=2");
        Assert.Equal([1L], oldest.Items.Select(m => m.Seq));
        Assert.False(oldest.HasMore);

        var missed = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?after=4&limit=2");
        Assert.Equal([5L, 6L], missed.Items.Select(m => m.Seq));
        Assert.True(missed.HasMore);
        var rest = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages?after=6");
        Assert.Equal([7L], rest.Items.Select(m => m.Seq));
        Assert.False(rest.HasMore);
    }

    [Theory]
    [InlineData("""{"content":""}""", "content")]
    [InlineData("""{"content":"   "}""", "content")]
    [InlineData("""{}""", "content")]
    [InlineData("""{"content":"x","type":"system"}""", "type")]
    [InlineData("""{"content":"x","clientMessageId":""}""", "clientMessageId")]
    [InlineData("""{"content":"x","fileId":"00000000-0000-0000-0000-000000000001"}""", "fileId")]
    [InlineData("""{"content":"x","replyToId":"00000000-0000-0000-0000-000000000001"}""", "replyToId")]
    [InlineData("TOO_LONG", "content")]
    public async Task Invalid_messages_are_400_and_store_nothing(string body, string field)
    {
        var (alice, _, chat) = await PairAsync();
        body = body.Replace("TOO_LONG", $$"""{"content":"{{new string('x', MessageService.MaxContentLength + 1)}}"}""", StringComparison.Ordinal);

        var response = await alice.Http.PostAsync($"/api/chats/{chat.Id}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Contains(field, (await response.ShouldBeProblem(HttpStatusCode.BadRequest)).Errors.Keys);
        Assert.Empty((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items);
    }

    [Fact]
    public async Task Content_of_exactly_the_limit_is_accepted()
    {
        var (alice, _, chat) = await PairAsync();

        var message = await alice.SendAsync(chat.Id, new string('é', MessageService.MaxContentLength));

        Assert.Equal(MessageService.MaxContentLength, message.Content!.Length);
    }

    [Fact]
    public async Task Replies_point_into_the_same_chat()
    {
        var (alice, bob, chat) = await PairAsync();
        var original = await alice.SendAsync(chat.Id, "question?");

        var reply = await bob.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "answer", replyToId = original.Id });

        await reply.ShouldBe(HttpStatusCode.Created);
        Assert.Equal(original.Id, (await reply.ReadAsync<MessageDto>()).ReplyToId);
        var elsewhere = await alice.GroupAsync("elsewhere", bob);
        var crossChat = await bob.Http.PostAsJsonAsync($"/api/chats/{elsewhere.Id}/messages", new { content = "x", replyToId = original.Id });
        await crossChat.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Outsiders_can_neither_send_nor_read()
    {
        var (alice, _, chat) = await PairAsync();
        var outsider = await server.RegisterAsync();
        var message = await alice.SendAsync(chat.Id, "private");

        await (await outsider.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "let me in" })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync($"/api/chats/{chat.Id}/messages")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "edited" })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync($"/api/chats/{chat.Id}/messages/search?q=private")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_removed_member_cannot_send_from_the_moment_the_removal_is_answered_and_a_re_added_one_can_at_once()
    {
        var (owner, member) = (await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("membership", member);
        // Sends keep the member list in memory: this one warms it.
        await member.SendAsync(group.Id, "still in");

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{member.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await member.Http.PostAsJsonAsync($"/api/chats/{group.Id}/messages", new { content = "after removal" })).ShouldBeProblem(HttpStatusCode.NotFound);

        await (await owner.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { member.Id } })).ShouldBe(HttpStatusCode.OK);
        await member.SendAsync(group.Id, "back again");
        var history = await owner.GetAsync<Page<MessageDto>>($"/api/chats/{group.Id}/messages");
        Assert.DoesNotContain(history.Items, m => m.Content == "after removal");
    }

    [Fact]
    public async Task Only_the_sender_edits_and_a_deleted_message_cannot_be_edited()
    {
        var (alice, bob, chat) = await PairAsync();
        var message = await alice.SendAsync(chat.Id, "typo");

        await (await bob.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "not mine" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await alice.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "" })).ShouldBeProblem(HttpStatusCode.BadRequest);

        var edited = await alice.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "fixed" });
        await edited.ShouldBe(HttpStatusCode.OK);
        var dto = await edited.ReadAsync<MessageDto>();
        Assert.Equal("fixed", dto.Content);
        Assert.NotNull(dto.EditedAt);
        Assert.Equal(message.Seq, dto.Seq);

        await (await alice.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await alice.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = "again" })).ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Deleting_leaves_a_tombstone_with_the_seq_and_no_content()
    {
        var (alice, bob, chat) = await PairAsync();
        var message = await alice.SendAsync(chat.Id, "regret");
        await alice.SendAsync(chat.Id, "after");

        await (await bob.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await alice.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBe(HttpStatusCode.NoContent);

        var history = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages");
        var tombstone = history.Items.Single(m => m.Id == message.Id);
        Assert.Null(tombstone.Content);
        Assert.NotNull(tombstone.DeletedAt);
        Assert.Equal([1L, 2L], history.Items.Select(m => m.Seq));
        Assert.Empty((await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=regret")).Items);
    }

    [Fact]
    public async Task A_group_admin_may_delete_anyone_s_message_a_member_may_not()
    {
        var (owner, author, bystander) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("moderated", author, bystander);
        var message = await author.SendAsync(group.Id, "spam");

        await (await bystander.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await owner.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Search_finds_words_and_prefixes_inside_one_chat_newest_first()
    {
        var (alice, bob, chat) = await PairAsync();
        var other = await alice.GroupAsync("other", bob);
        await alice.SendAsync(chat.Id, "Let's meet at the café tomorrow");
        await bob.SendAsync(chat.Id, "Nothing relevant");
        await bob.SendAsync(chat.Id, "The CAFE was closed, meet at noon");
        await alice.SendAsync(other.Id, "meet in another chat");

        var meet = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=meet");
        Assert.Equal([3L, 1L], meet.Items.Select(m => m.Seq));

        var prefixAndAccent = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=caf");
        Assert.Equal(2, prefixAndAccent.Items.Count);

        var both = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=meet%20noon");
        Assert.Equal([3L], both.Items.Select(m => m.Seq));

        var paged = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=meet&limit=1");
        Assert.True(paged.HasMore);
        var next = await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=meet&limit=1&before=3");
        Assert.Equal([1L], next.Items.Select(m => m.Seq));
    }

    [Fact]
    public async Task Edits_are_searchable_by_their_new_words_only()
    {
        var (alice, _, chat) = await PairAsync();
        // Edited at once (on SQLite, most likely before the indexer took it) and edited after a search indexed it.
        var editedAtOnce = await alice.SendAsync(chat.Id, "original wording");
        await (await alice.Http.PutAsJsonAsync($"/api/messages/{editedAtOnce.Id}", new { content = "replacement text" })).ShouldBe(HttpStatusCode.OK);
        var editedLater = await alice.SendAsync(chat.Id, "first draft");
        Assert.Single((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=draft")).Items);
        await (await alice.Http.PutAsJsonAsync($"/api/messages/{editedLater.Id}", new { content = "second version" })).ShouldBe(HttpStatusCode.OK);

        Assert.Empty((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=original")).Items);
        Assert.Equal([editedAtOnce.Id], (await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=replacement")).Items.Select(m => m.Id));
        Assert.Empty((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=draft")).Items);
        Assert.Equal([editedLater.Id], (await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=version")).Items.Select(m => m.Id));
    }

    [Fact]
    public async Task New_messages_are_indexed_for_search_without_waiting_for_a_search()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "SQLite indexes in batches; PostgreSQL's index is part of the row.");
        // A server of its own: on the shared one, another test's search would index these messages too.
        await using var server = new WhisperServer();
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var sent = new List<MessageDto>();
        for (var i = 0; i < 5; i++)
        {
            sent.Add(await alice.SendAsync(chat.Id, $"indexed in the background {i}"));
        }

        // SQLite stores ids as 16-byte blobs in the order of their text's digits (Data/SqliteIds).
        var ids = System.Text.Json.JsonSerializer.Serialize(sent.Select(m => m.Id.ToString("N")));
        Task<int> Indexed() => server.QueryStoreAsync(db => db.Database.SqlQuery<int>($"""
            SELECT COUNT(*) AS "Value" FROM "MessageSearchKeys" WHERE "MessageId" IN (SELECT unhex(value) FROM json_each({ids}))
            """).SingleAsync());
        Task<int> Queued() => server.QueryStoreAsync(db => db.Database.SqlQuery<int>($"""
            SELECT COUNT(*) AS "Value" FROM "MessageSearchPending" WHERE "MessageId" IN (SELECT unhex(value) FROM json_each({ids}))
            """).SingleAsync());

        await Waits.UntilAsync(async () => await Indexed() == sent.Count, "the indexer to index the sent messages");
        Assert.Equal(0, await Queued());
    }

    [Theory]
    [InlineData("\"unbalanced")]
    [InlineData("AND OR NOT")]
    [InlineData("a* OR (b")]
    [InlineData("col:umn")]
    [InlineData("NEAR(a b)")]
    [InlineData("***")]
    [InlineData("'; DROP TABLE Messages; --")]
    public async Task Search_text_with_query_syntax_is_taken_literally(string q)
    {
        var (alice, _, chat) = await PairAsync();
        await alice.SendAsync(chat.Id, "AND OR NOT are words too");

        var response = await alice.Http.GetAsync($"/api/chats/{chat.Id}/messages/search?q={Uri.EscapeDataString(q)}");

        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Search_needs_a_query()
    {
        var (alice, _, chat) = await PairAsync();

        await (await alice.Http.GetAsync($"/api/chats/{chat.Id}/messages/search")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await alice.Http.GetAsync($"/api/chats/{chat.Id}/messages/search?q=%20")).ShouldBeProblem(HttpStatusCode.BadRequest);
    }
}
