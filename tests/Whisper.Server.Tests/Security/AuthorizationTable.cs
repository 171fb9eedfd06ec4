using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Whisper.Server.Push;
using Whisper.Server.Tests.Infrastructure;
using Expected = Whisper.Server.Tests.Security.ByCaller<int>;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// Who calls. For chat-scoped endpoints the roles are those of one group chat; for user-scoped
/// endpoints ("/api/users/{id}") the path names the group's owner, so <see cref="Owner"/> is "self"
/// and everyone else is another user. <see cref="Revoked"/> is a member whose session was logged out.
/// </summary>
public enum Caller { Anonymous, Outsider, Member, Admin, Owner, Revoked }

/// <summary>One value for each kind of caller, in the order of <see cref="Caller"/>.</summary>
public sealed record ByCaller<T>(T Anonymous, T Outsider, T Member, T Admin, T Owner, T Revoked)
{
    public T For(Caller caller) => caller switch
    {
        Caller.Anonymous => Anonymous,
        Caller.Outsider => Outsider,
        Caller.Member => Member,
        Caller.Admin => Admin,
        Caller.Owner => Owner,
        Caller.Revoked => Revoked,
        _ => throw new ArgumentOutOfRangeException(nameof(caller)),
    };
}

/// <summary>The ids a request is filled with: one fresh group per case, so that deleting or leaving cannot affect another case.</summary>
public sealed record Scene(Guid GroupId, Guid MessageId, Guid FileId, Guid SubjectUserId, Guid TargetMemberId, Guid NewcomerId, AuthorizationWorld World)
{
    /// <summary>The same request aimed at things that do not exist: an outsider's 404 must look exactly like this one.</summary>
    public Scene Ghost() => this with { GroupId = Guid.NewGuid(), MessageId = Guid.NewGuid(), FileId = Guid.NewGuid(), TargetMemberId = Guid.NewGuid() };
}

public sealed record MatrixRequest(string PathAndQuery, HttpContent? Body = null);

/// <param name="FreshSession">The caller uses a session of its own for this request (logging out would end the shared one).</param>
/// <param name="Afterwards">Cleans up what a successful request left behind.</param>
public sealed record MatrixRow(
    string Method, string Path, Expected Expected, Func<Scene, Task<MatrixRequest>> Build,
    bool Operational = false, bool FreshSession = false, Func<Scene, HttpClient, Task>? Afterwards = null)
{
    public string Key => $"{Method} {Path}";
}

/// <summary>
/// The authorization contract of every endpoint, one row each. The operational endpoints are not in the
/// OpenAPI document; they are here so that they stay public on purpose.
/// </summary>
public static class AuthorizationTable
{
    private const int Unauthorized = 401;

    /// <summary>Anyone, signed in or not, even with a revoked token.</summary>
    private static Expected Public(int status) => new(status, status, status, status, status, status);

    /// <summary>Any signed-in user; no chat involved.</summary>
    private static Expected SignedIn(int status) => new(Unauthorized, status, status, status, status, Unauthorized);

    /// <summary>Chat members only; outsiders get the same 404 as for a chat that does not exist.</summary>
    private static Expected Members(int member, int admin, int owner) => new(Unauthorized, 404, member, admin, owner, Unauthorized);

    /// <summary>User-scoped: the path names the owner, so only <see cref="Caller.Owner"/> is "self".</summary>
    private static Expected SelfOnly(int self, int others) => new(Unauthorized, others, others, others, self, Unauthorized);

    public static readonly IReadOnlyList<MatrixRow> Rows =
    [
        // Auth: open to everyone; a stale token on an open endpoint is ignored, not refused.
        new("POST", "/api/register", Public(201), _ => Json("/api/register", new { username = Names.Unique(), password = TestUser.Password })),
        new("POST", "/api/login", Public(200), s => Json("/api/login", new { login = s.World.Newcomer.Username, password = TestUser.Password })),
        new("POST", "/api/refresh", Public(200), async s => await Json("/api/refresh", new { refreshToken = await s.World.SpareRefreshTokenAsync() })),
        new("POST", "/api/logout", SignedIn(204), _ => Plain("/api/logout"), FreshSession: true),
        new("GET", "/api/logout", SignedIn(204), _ => Plain("/api/logout"), FreshSession: true),

        // Users: anyone signed in sees public profiles; only the user itself changes its own.
        new("GET", "/api/users/me", SignedIn(200), _ => Plain("/api/users/me")),
        new("GET", "/api/users", SignedIn(200), s => Plain($"/api/users?search={s.World.Owner.Username}&limit=5")),
        new("GET", "/api/users/{id}", SignedIn(200), s => Plain($"/api/users/{s.SubjectUserId}")),
        new("PUT", "/api/users/{id}", SelfOnly(self: 200, others: 403), s => Json($"/api/users/{s.SubjectUserId}", new { displayName = "Renamed", about = "hi" })),
        new("GET", "/api/users/{id}/last-seen", SignedIn(200), s => Plain($"/api/users/{s.SubjectUserId}/last-seen")),

        // Chats: members see, admins change, the owner sets roles.
        new("GET", "/api/chats", SignedIn(200), _ => Plain("/api/chats?limit=5")),
        new("POST", "/api/chats", SignedIn(201), _ => Json("/api/chats", new { type = "group", name = "Fresh", memberIds = Array.Empty<Guid>() })),
        new("GET", "/api/chats/{id}", Members(200, 200, 200), s => Plain($"/api/chats/{s.GroupId}")),
        new("PUT", "/api/chats/{id}", Members(403, 200, 200), s => Json($"/api/chats/{s.GroupId}", new { name = "Renamed" })),
        new("POST", "/api/chats/{id}/users", Members(403, 200, 200), s => Json($"/api/chats/{s.GroupId}/users", new { userIds = new[] { s.NewcomerId } })),
        new("DELETE", "/api/chats/{id}/users/{userId}", Members(403, 204, 204), s => Plain($"/api/chats/{s.GroupId}/users/{s.TargetMemberId}")),
        new("PUT", "/api/chats/{id}/users/{userId}", Members(403, 403, 200), s => Json($"/api/chats/{s.GroupId}/users/{s.TargetMemberId}", new { role = "admin" })),

        // Messages (the scene's message was sent by the owner): members read and send; only the sender
        // edits; the sender or a group admin deletes; senders do not mark their own messages.
        new("GET", "/api/chats/{chatId}/messages", Members(200, 200, 200), s => Plain($"/api/chats/{s.GroupId}/messages?after=0&limit=10")),
        new("POST", "/api/chats/{chatId}/messages", Members(201, 201, 201), s => Json($"/api/chats/{s.GroupId}/messages", new { content = "hello again", clientMessageId = Guid.NewGuid().ToString() })),
        new("GET", "/api/chats/{chatId}/messages/search", Members(200, 200, 200), s => Plain($"/api/chats/{s.GroupId}/messages/search?q=hello")),
        new("PUT", "/api/messages/{id}", Members(403, 403, 200), s => Json($"/api/messages/{s.MessageId}", new { content = "edited" })),
        new("DELETE", "/api/messages/{id}", Members(403, 204, 204), s => Plain($"/api/messages/{s.MessageId}")),
        new("GET", "/api/messages/{id}/status", Members(200, 200, 200), s => Plain($"/api/messages/{s.MessageId}/status")),
        new("POST", "/api/messages/{id}/status", Members(200, 200, 400), s => Json($"/api/messages/{s.MessageId}/status", new { status = "read" })),
        new("GET", "/api/message/{id}/status", Members(200, 200, 200), s => Plain($"/api/message/{s.MessageId}/status")),
        new("POST", "/api/message/{id}/status", Members(200, 200, 400), s => Json($"/api/message/{s.MessageId}/status", new { status = "delivered" })),

        // Files (the scene's file was uploaded by the owner): members upload, list and download; the
        // uploader or a group admin deletes.
        new("POST", "/api/chats/{chatId}/files", Members(201, 201, 201), s => Sync(new MatrixRequest($"/api/chats/{s.GroupId}/files", PngUpload()))),
        new("GET", "/api/chats/{chatId}/files", Members(200, 200, 200), s => Plain($"/api/chats/{s.GroupId}/files?limit=5")),
        new("GET", "/api/files/{id}", Members(200, 200, 200), s => Plain($"/api/files/{s.FileId}")),
        new("DELETE", "/api/files/{id}", Members(403, 204, 204), s => Plain($"/api/files/{s.FileId}")),

        // Push: per signed-in user.
        new("GET", "/api/push/public-key", SignedIn(200), _ => Plain("/api/push/public-key")),
        new("POST", "/api/push/subscriptions", SignedIn(201), s => Json("/api/push/subscriptions", PushSubscription(s.MessageId)),
            Afterwards: (s, client) => client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/push/subscriptions") { Content = JsonContent.Create(new { endpoint = PushEndpoint(s.MessageId) }) })),
        new("DELETE", "/api/push/subscriptions", SignedIn(204), s => Json("/api/push/subscriptions", new { endpoint = PushEndpoint(s.MessageId) })),

        // Operations: public, for load balancers, scrapers and API clients.
        new("GET", "/healthz", Public(200), _ => Plain("/healthz"), Operational: true),
        new("GET", "/readyz", Public(200), _ => Plain("/readyz"), Operational: true),
        new("GET", "/metrics", Public(200), _ => Plain("/metrics"), Operational: true),
        new("GET", "/openapi/v1.json", Public(200), _ => Plain("/openapi/v1.json"), Operational: true),
        new("GET", "/api-reference", Public(200), _ => Plain("/api-reference"), Operational: true),
    ];

    public static MatrixRow Row(string key) => Rows.Single(r => r.Key == key);

    private static Task<MatrixRequest> Sync(MatrixRequest request) => Task.FromResult(request);

    private static Task<MatrixRequest> Plain(string pathAndQuery) => Sync(new MatrixRequest(pathAndQuery));

    private static Task<MatrixRequest> Json(string pathAndQuery, object body) => Sync(new MatrixRequest(pathAndQuery, JsonContent.Create(body, options: Infrastructure.Json.Options)));

    private static HttpContent PngUpload()
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(FileTests.Png);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(part, "file", "matrix.png");
        return form;
    }

    /// <summary>An address that cannot resolve (RFC 2606), so no push is ever really sent.</summary>
    private static string PushEndpoint(Guid unique) => $"https://push.whisper.invalid/{unique:N}";

    private static object PushSubscription(Guid unique)
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return new
        {
            endpoint = PushEndpoint(unique),
            keys = new { p256dh = Base64Url.Encode(WebPushEncryption.PublicKeyBytes(key)), auth = Base64Url.Encode(RandomNumberGenerator.GetBytes(16)) },
        };
    }
}

/// <summary>Expected outcome of one hub method for one caller.</summary>
public enum HubOutcome
{
    /// <summary>The connection itself is refused with 401 at negotiate.</summary>
    RefusedAtConnect,

    /// <summary>A live connection of the session is closed when it logs out, and cannot come back.</summary>
    ClosedOnLogout,

    /// <summary>A HubException, no event to anyone and nothing stored; the connection stays up.</summary>
    Refused,

    /// <summary>Done, with its evidence (the message stored, the watermark moved, the event delivered).</summary>
    Succeeds,
}

public sealed record HubRow(string Method, ByCaller<HubOutcome> Outcomes);

/// <summary>Every hub method acts on a chat the caller must be a member of; no role beyond membership is needed.</summary>
public static class HubAuthorizationTable
{
    private static HubRow MembersOnly(string method) =>
        new(method, new(HubOutcome.RefusedAtConnect, HubOutcome.Refused, HubOutcome.Succeeds, HubOutcome.Succeeds, HubOutcome.Succeeds, HubOutcome.ClosedOnLogout));

    public static readonly IReadOnlyList<HubRow> Rows =
    [
        MembersOnly("SendMessage"),
        MembersOnly("MarkDelivered"),
        MembersOnly("MarkRead"),
        MembersOnly("Typing"),
    ];
}
