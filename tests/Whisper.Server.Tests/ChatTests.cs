using System.Net;
using System.Net.Http.Json;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class ChatTests(SharedServer server)
{
    [Fact]
    public async Task A_pair_has_one_direct_chat_whoever_opens_it()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync(displayName: "Bob B."));

        var first = await alice.Http.PostAsJsonAsync("/api/chats", new { type = "direct", userId = bob.Id });
        await first.ShouldBe(HttpStatusCode.Created);
        var chat = await first.ReadAsync<ChatDto>();
        var again = await bob.Http.PostAsJsonAsync("/api/chats", new { type = "direct", userId = alice.Id });
        await again.ShouldBe(HttpStatusCode.OK);

        Assert.Equal(chat.Id, (await again.ReadAsync<ChatDto>()).Id);
        Assert.Equal(ChatType.Direct, chat.Type);
        Assert.Equal("Bob B.", chat.Name);
        Assert.Equal([alice.Id, bob.Id], chat.Members.Select(m => m.UserId).Order().ToArray().Order());
    }

    [Fact]
    public async Task Concurrent_creation_of_a_direct_chat_still_makes_one()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            (i % 2 == 0 ? alice : bob).Http.PostAsJsonAsync("/api/chats", new { type = "direct", userId = (i % 2 == 0 ? bob : alice).Id })));

        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(answers.Select(async a => (await a.ReadAsync<ChatDto>()).Id));
        Assert.Single(ids.Distinct());
    }

    [Theory]
    [InlineData("""{"type":"direct"}""")]
    [InlineData("""{"type":"direct","userId":"00000000-0000-0000-0000-000000000009"}""")]
    [InlineData("""{"type":"group","memberIds":[]}""")]
    [InlineData("""{"type":"group","name":"   "}""")]
    [InlineData("""{"type":"group","name":"x","memberIds":["00000000-0000-0000-0000-000000000009"]}""")]
    [InlineData("""{"name":"no type"}""")]
    [InlineData("""{"type":"channel","name":"x"}""")]
    public async Task Invalid_chat_creation_is_400(string body)
    {
        var alice = await server.RegisterAsync();

        var response = await alice.Http.PostAsync("/api/chats", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_direct_chat_with_oneself_is_400()
    {
        var alice = await server.RegisterAsync();

        var response = await alice.Http.PostAsJsonAsync("/api/chats", new { type = "direct", userId = alice.Id });

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_creator_owns_a_group_and_outsiders_cannot_see_it()
    {
        var (owner, member, outsider) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());

        var group = await owner.GroupAsync("Team", member);

        Assert.Equal(ChatRole.Owner, group.MyRole);
        Assert.Equal(ChatRole.Owner, group.Members.Single(m => m.UserId == owner.Id).Role);
        Assert.Equal(ChatRole.Member, group.Members.Single(m => m.UserId == member.Id).Role);
        Assert.Equal("Team", (await member.GetAsync<ChatDto>($"/api/chats/{group.Id}")).Name);
        await (await outsider.Http.GetAsync($"/api/chats/{group.Id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync($"/api/chats/{Guid.NewGuid()}")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_chat_list_is_ordered_by_activity_with_unread_counts_and_pages()
    {
        var (alice, bob, carol) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var withBob = await alice.DirectChatWithAsync(bob);
        var withCarol = await alice.DirectChatWithAsync(carol);
        var group = await alice.GroupAsync("Three", bob, carol);

        await bob.SendAsync(withBob.Id, "one");
        await bob.SendAsync(withBob.Id, "two");
        await alice.SendAsync(withBob.Id, "mine do not count");

        var list = await alice.GetAsync<Page<ChatDto>>("/api/chats");
        Assert.Equal([withBob.Id, group.Id, withCarol.Id], list.Items.Select(c => c.Id));
        Assert.False(list.HasMore);
        var top = list.Items[0];
        Assert.Equal(2, top.UnreadCount);
        Assert.Equal("mine do not count", top.LastMessage!.Content);
        Assert.Equal(3, top.LastSeq);

        var firstPage = await alice.GetAsync<Page<ChatDto>>("/api/chats?limit=2");
        Assert.True(firstPage.HasMore);
        var before = Uri.EscapeDataString(firstPage.Items[^1].UpdatedAt.ToString("O"));
        var secondPage = await alice.GetAsync<Page<ChatDto>>($"/api/chats?limit=2&before={before}");
        Assert.Equal([withCarol.Id], secondPage.Items.Select(c => c.Id));
        Assert.False(secondPage.HasMore);
    }

    [Fact]
    public async Task Only_admins_rename_and_add_members_and_direct_chats_have_neither()
    {
        var (owner, admin, member, newcomer) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("Before", admin, member);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{admin.Id}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);

        await (await member.Http.PutAsJsonAsync($"/api/chats/{group.Id}", new { name = "Mine" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await member.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { newcomer.Id } })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await newcomer.Http.PutAsJsonAsync($"/api/chats/{group.Id}", new { name = "Outsider" })).ShouldBeProblem(HttpStatusCode.NotFound);

        var renamed = await admin.Http.PutAsJsonAsync($"/api/chats/{group.Id}", new { name = "After" });
        await renamed.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("After", (await renamed.ReadAsync<ChatDto>()).Name);

        var added = await admin.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { newcomer.Id, member.Id } });
        await added.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(4, (await added.ReadAsync<ChatDto>()).Members.Count);
        Assert.Equal("After", (await newcomer.GetAsync<ChatDto>($"/api/chats/{group.Id}")).Name);

        var direct = await owner.DirectChatWithAsync(member);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{direct.Id}", new { name = "x" })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await owner.Http.PostAsJsonAsync($"/api/chats/{direct.Id}/users", new { userIds = new[] { newcomer.Id } })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await owner.Http.DeleteAsync($"/api/chats/{direct.Id}/users/{member.Id}")).ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Adding_unknown_users_is_400_and_adds_nobody()
    {
        var (owner, friend) = (await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("G");

        var response = await owner.Http.PostAsJsonAsync($"/api/chats/{group.Id}/users", new { userIds = new[] { friend.Id, Guid.NewGuid() } });

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        Assert.Single((await owner.GetAsync<ChatDto>($"/api/chats/{group.Id}")).Members);
    }

    [Fact]
    public async Task Removal_rules_admins_remove_members_only_the_owner_removes_admins_nobody_removes_the_owner()
    {
        var (owner, admin, other, member) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("Rules", admin, other, member);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{admin.Id}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{other.Id}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);

        await (await member.Http.DeleteAsync($"/api/chats/{group.Id}/users/{admin.Id}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await admin.Http.DeleteAsync($"/api/chats/{group.Id}/users/{owner.Id}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await admin.Http.DeleteAsync($"/api/chats/{group.Id}/users/{other.Id}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await admin.Http.DeleteAsync($"/api/chats/{group.Id}/users/{Guid.NewGuid()}")).ShouldBeProblem(HttpStatusCode.NotFound);

        await (await admin.Http.DeleteAsync($"/api/chats/{group.Id}/users/{member.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await member.Http.GetAsync($"/api/chats/{group.Id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await member.Http.GetAsync($"/api/chats/{group.Id}/messages")).ShouldBeProblem(HttpStatusCode.NotFound);
        Assert.DoesNotContain((await member.GetAsync<Page<ChatDto>>("/api/chats")).Items, c => c.Id == group.Id);

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{other.Id}")).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Any_member_may_leave_and_an_owner_who_leaves_hands_over_to_an_admin()
    {
        var (owner, member, admin) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("Handover", member, admin);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{admin.Id}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);

        await (await owner.Http.DeleteAsync($"/api/chats/{group.Id}/users/{owner.Id}")).ShouldBe(HttpStatusCode.NoContent);

        var after = await member.GetAsync<ChatDto>($"/api/chats/{group.Id}");
        Assert.Equal(ChatRole.Owner, after.Members.Single(m => m.UserId == admin.Id).Role);
        Assert.DoesNotContain(after.Members, m => m.UserId == owner.Id);
        await (await member.Http.DeleteAsync($"/api/chats/{group.Id}/users/{member.Id}")).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Only_the_owner_changes_roles()
    {
        var (owner, admin, member) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("Roles", admin, member);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{admin.Id}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);

        await (await admin.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{member.Id}", new { role = "admin" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{owner.Id}", new { role = "member" })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{member.Id}", new { role = "owner" })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{Guid.NewGuid()}", new { role = "admin" })).ShouldBeProblem(HttpStatusCode.NotFound);

        var demoted = await owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{admin.Id}", new { role = "member" });
        await demoted.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(ChatRole.Member, (await demoted.ReadAsync<ChatDto>()).Members.Single(m => m.UserId == admin.Id).Role);
    }
}
