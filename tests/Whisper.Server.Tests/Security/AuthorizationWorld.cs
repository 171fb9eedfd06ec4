using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Whisper.Server.Auth;
using Whisper.Server.Chats;
using Whisper.Server.Files;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// The users of the authorization matrix, registered once (password hashing is slow), and a fresh
/// group with a message and a file for every case. Counts the cases for the security report.
/// </summary>
public sealed class AuthorizationWorld(SharedServer server) : IAsyncLifetime
{
    public const string Family = "authorization matrix (REST and hub)";

    public SharedServer Server => server;

    public CaseTally Tally { get; } = new();

    public TestUser Owner { get; private set; } = null!;

    public TestUser Admin { get; private set; } = null!;

    public TestUser Member { get; private set; } = null!;

    /// <summary>A plain member that the requests act on (removed, promoted); never the caller.</summary>
    public TestUser Target { get; private set; } = null!;

    public TestUser Outsider { get; private set; } = null!;

    /// <summary>Belongs to nothing: the one added to groups, the one whose login and refresh tokens are used.</summary>
    public TestUser Newcomer { get; private set; } = null!;

    /// <summary>A member of every scene group whose session was logged out; <see cref="RevokedToken"/> is its dead access token.</summary>
    public TestUser RevokedMember { get; private set; } = null!;

    public string RevokedToken => RevokedMember.Session.AccessToken;

    public async ValueTask InitializeAsync()
    {
        var users = await server.RegisterManyAsync(7);
        (Owner, Admin, Member, Target, Outsider, Newcomer, RevokedMember) = (users[0], users[1], users[2], users[3], users[4], users[5], users[6]);
        await (await RevokedMember.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);
    }

    public ValueTask DisposeAsync()
    {
        // A run filtered down to the coverage checks tried no case: it has nothing to report.
        if (Tally.Tried > 0)
        {
            SecurityReport.Write(Family, Tally.Tried, Tally.Failures);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A group owned by <see cref="Owner"/> with an admin, a member, the target and the revoked member.</summary>
    public async Task<ChatDto> GroupAsync()
    {
        var group = await Owner.GroupAsync("Matrix", Admin, Member, Target, RevokedMember);
        await (await Owner.Http.PutAsJsonAsync($"/api/chats/{group.Id}/users/{Admin.Id}", new { role = "admin" }, Json.Options)).ShouldBe(HttpStatusCode.OK);
        return group;
    }

    /// <summary>A fresh group with a message and a file, both from the owner.</summary>
    public async Task<Scene> SceneAsync()
    {
        var group = await GroupAsync();
        var message = await Owner.SendAsync(group.Id, "hello matrix");
        var upload = await FileTests.UploadAsync(Owner, group.Id, FileTests.Png, "scene.png", "image/png");
        await upload.ShouldBe(HttpStatusCode.Created);
        var file = await upload.ReadAsync<FileDto>();
        return new Scene(group.Id, message.Id, file.Id, Owner.Id, Target.Id, Newcomer.Id, this);
    }

    public async Task<string> SpareRefreshTokenAsync() => (await LoginAsync(Newcomer)).Session.RefreshToken;

    /// <summary>A second session of the same user, as another device would have.</summary>
    public async Task<TestUser> LoginAsync(TestUser user)
    {
        var response = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = TestUser.Password }, Json.Options);
        await response.ShouldBe(HttpStatusCode.OK);
        var session = await response.ReadAsync<SessionDto>();
        var client = server.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
        return new TestUser(client, session);
    }

    public TestUser? UserFor(Caller caller) => caller switch
    {
        Caller.Outsider => Outsider,
        Caller.Member => Member,
        Caller.Admin => Admin,
        Caller.Owner => Owner,
        Caller.Revoked => RevokedMember,
        _ => null,
    };

    /// <summary>The HTTP client a caller uses: none for anonymous, the dead token for revoked.</summary>
    public async Task<HttpClient> ClientForAsync(Caller caller, bool freshSession)
    {
        switch (caller)
        {
            case Caller.Anonymous:
                return server.Anonymous();
            case Caller.Revoked:
                var revoked = server.Anonymous();
                revoked.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RevokedToken);
                return revoked;
            default:
                var user = UserFor(caller)!;
                return freshSession ? (await LoginAsync(user)).Http : user.Http;
        }
    }
}
