using System.Net;
using System.Net.Http.Json;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Tests.Infrastructure;
using Whisper.Server.Users;

namespace Whisper.Server.Tests;

public sealed class UserTests(SharedServer server)
{
    [Fact]
    public async Task Me_has_private_fields_and_others_see_the_public_shape_only()
    {
        var alice = await server.RegisterAsync(email: $"{Names.Unique()}@example.com", displayName: "Alice");
        var bob = await server.RegisterAsync();

        var me = await alice.GetAsync<MeDto>("/api/users/me");
        Assert.Equal(alice.Session.User.Email, me.Email);
        Assert.Equal(LastSeenVisibility.Everyone, me.LastSeenVisibility);

        var seenByBob = await bob.Http.GetStringAsync($"/api/users/{alice.Id}");
        Assert.Contains("\"displayName\":\"Alice\"", seenByBob);
        Assert.DoesNotContain("email", seenByBob);
        Assert.DoesNotContain("password", seenByBob, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unknown_users_are_404()
    {
        var alice = await server.RegisterAsync();

        await (await alice.Http.GetAsync($"/api/users/{Guid.NewGuid()}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await alice.Http.GetAsync($"/api/users/{Guid.NewGuid()}/last-seen")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await alice.Http.GetAsync("/api/users/not-a-guid")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_user_updates_their_own_profile_and_nobody_else_can()
    {
        var alice = await server.RegisterAsync();
        var bob = await server.RegisterAsync();

        var update = await alice.Http.PutAsJsonAsync($"/api/users/{alice.Id}",
            new { displayName = "Alice A.", about = "Hi there", lastSeenVisibility = "nobody" }, Json.Options);
        await update.ShouldBe(HttpStatusCode.OK);
        var me = await update.ReadAsync<MeDto>();
        Assert.Equal(("Alice A.", "Hi there", LastSeenVisibility.Nobody), (me.DisplayName, me.About, me.LastSeenVisibility));

        var byBob = await bob.Http.PutAsJsonAsync($"/api/users/{alice.Id}", new { displayName = "Hacked" });
        await byBob.ShouldBeProblem(HttpStatusCode.Forbidden);
        Assert.Equal("Alice A.", (await bob.GetAsync<UserDto>($"/api/users/{alice.Id}")).DisplayName);
    }

    [Theory]
    [InlineData("""{"displayName":""}""", "displayName")]
    [InlineData("""{"avatarFileId":"00000000-0000-0000-0000-000000000001"}""", "avatarFileId")]
    [InlineData("ABOUT_TOO_LONG", "about")]
    public async Task Invalid_profile_updates_are_400_and_change_nothing(string body, string field)
    {
        var alice = await server.RegisterAsync(displayName: "Unchanged");
        body = body.Replace("ABOUT_TOO_LONG", $$"""{"about":"{{new string('a', UserRules.MaxAbout + 1)}}"}""", StringComparison.Ordinal);

        var response = await alice.Http.PutAsync($"/api/users/{alice.Id}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Contains(field, (await response.ShouldBeProblem(HttpStatusCode.BadRequest)).Errors.Keys);
        Assert.Equal("Unchanged", (await alice.GetAsync<MeDto>("/api/users/me")).DisplayName);
    }

    [Fact]
    public async Task An_unknown_visibility_is_a_400()
    {
        var alice = await server.RegisterAsync();

        var response = await alice.Http.PutAsync($"/api/users/{alice.Id}",
            new StringContent("""{"lastSeenVisibility":"sometimes"}""", System.Text.Encoding.UTF8, "application/json"));

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Last_seen_follows_the_privacy_setting()
    {
        var (alice, contact, stranger) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        await alice.DirectChatWithAsync(contact);

        async Task<LastSeenDto> SeenBy(TestUser viewer) => await viewer.GetAsync<LastSeenDto>($"/api/users/{alice.Id}/last-seen");
        async Task SetVisibility(string visibility) =>
            await (await alice.Http.PutAsJsonAsync($"/api/users/{alice.Id}", new { lastSeenVisibility = visibility })).ShouldBe(HttpStatusCode.OK);

        // Visible means a value (false: not connected), hidden means null.
        Assert.False((await SeenBy(stranger)).Online);

        await SetVisibility("contacts");
        Assert.False((await SeenBy(contact)).Online);
        Assert.Null((await SeenBy(stranger)).Online);

        await SetVisibility("nobody");
        Assert.Null((await SeenBy(contact)).Online);
        Assert.Null((await SeenBy(stranger)).Online);
        Assert.False((await SeenBy(alice)).Online);
    }

    [Fact]
    public async Task Search_matches_username_prefix_and_display_name_and_is_bounded()
    {
        var tag = Names.Unique("s")[..10];
        var searcher = await server.RegisterAsync();
        var byName = await server.RegisterAsync(name: tag + "abc");
        var byDisplay = await server.RegisterAsync(displayName: $"Mx {tag.ToUpperInvariant()} Person");
        await server.RegisterAsync(name: tag + "def");

        var found = await searcher.GetAsync<Page<UserDto>>($"/api/users?search={tag}");
        Assert.Contains(found.Items, u => u.Id == byName.Id);
        Assert.Contains(found.Items, u => u.Id == byDisplay.Id);
        Assert.Equal(3, found.Items.Count);

        var limited = await searcher.GetAsync<Page<UserDto>>($"/api/users?search={tag}&limit=2");
        Assert.Equal(2, limited.Items.Count);
        Assert.True(limited.HasMore);

        var empty = await searcher.GetAsync<Page<UserDto>>("/api/users?search=");
        Assert.Empty(empty.Items);
    }
}
