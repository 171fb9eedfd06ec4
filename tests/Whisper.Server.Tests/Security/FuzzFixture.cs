using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Whisper.Server.Auth;
using Whisper.Server.Files;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// The fuzzing family's own server (its Error log is watched), its users, its seed and its case budget.
/// WHISPER_FUZZ_SEED replays a run (the same choices, on fresh ids); WHISPER_FUZZ_CASES sets the number of cases
/// per endpoint, which the hub families scale with.
/// </summary>
public sealed class FuzzFixture : IAsyncLifetime
{
    public const string EndpointFamily = "endpoint fuzzing (REST, CsCheck)";

    public const string HubFamily = "hub fuzzing (SignalR client, CsCheck)";

    public const string FramesFamily = "hub protocol frames (raw WebSocket, CsCheck)";

    public HostileServer Server { get; } = new();

    public CaseTally Endpoints { get; } = new();

    public CaseTally Hub { get; } = new();

    public CaseTally Frames { get; } = new();

    public ulong Seed { get; } = ulong.TryParse(Environment.GetEnvironmentVariable("WHISPER_FUZZ_SEED"), CultureInfo.InvariantCulture, out var seed)
        ? seed
        : (ulong)Random.Shared.NextInt64();

    /// <summary>Bounded so that the whole Security folder runs in about a minute on two busy cores (most of it the endpoints).</summary>
    public int CasesPerEndpoint { get; } = int.TryParse(Environment.GetEnvironmentVariable("WHISPER_FUZZ_CASES"), CultureInfo.InvariantCulture, out var cases) ? cases : 24;

    public int HubCases => CasesPerEndpoint * 6;

    public int FrameCases => CasesPerEndpoint * 4;

    /// <summary>The user whose valid token most requests carry.</summary>
    public TestUser Me { get; private set; } = null!;

    /// <summary>Shares the fuzzing user's chats.</summary>
    public TestUser Friend { get; private set; } = null!;

    /// <summary>Shares nothing with the fuzzing user: its ids must stay out of reach.</summary>
    public TestUser Stranger { get; private set; } = null!;

    public int ErrorsAtStart { get; private set; }

    public async ValueTask InitializeAsync()
    {
        (Me, Friend, Stranger) = (await Server.RegisterAsync(), await Server.RegisterAsync(), await Server.RegisterAsync());
        ErrorsAtStart = Server.Errors.Count;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (family, tally) in new[] { (EndpointFamily, Endpoints), (HubFamily, Hub), (FramesFamily, Frames) })
        {
            if (tally.Tried > 0)
            {
                SecurityReport.Write(family, tally.Tried, tally.Failures);
            }
        }

        await Server.DisposeAsync();
    }

    /// <summary>Fresh chats for one endpoint's cases, so a case that deletes or leaves spoils no other endpoint.</summary>
    public async Task<FuzzScene> SceneAsync()
    {
        var group = await Me.GroupAsync("Fuzz", Friend);
        var direct = await Me.DirectChatWithAsync(Friend);
        var mine = await Me.SendAsync(group.Id, "hello fuzz");
        var theirs = await Friend.SendAsync(group.Id, "hello back");
        var file = await UploadAsync(Me, group.Id);
        var strangers = await Stranger.GroupAsync("Private");
        var strangerMessage = await Stranger.SendAsync(strangers.Id, "private");
        var strangerFile = await UploadAsync(Stranger, strangers.Id);
        return new FuzzScene(group.Id, direct.Id, mine.Id, theirs.Id, file, strangers.Id, strangerMessage.Id, strangerFile, Me.Id, Friend.Id, Stranger.Id);
    }

    /// <summary>A second session, for requests that end theirs (logout).</summary>
    public async Task<string> FreshTokenAsync()
    {
        var response = await Server.Anonymous().PostAsJsonAsync("/api/login", new { login = Me.Username, password = TestUser.Password }, Json.Options);
        await response.ShouldBe(HttpStatusCode.OK);
        return (await response.ReadAsync<SessionDto>()).AccessToken;
    }

    /// <summary>A stable stream number per name (string.GetHashCode changes from run to run).</summary>
    public static uint StreamOf(string name)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }

    private static async Task<Guid> UploadAsync(TestUser user, Guid chatId)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(FileTests.Png);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(part, "file", "fuzz.png");
        var response = await user.Http.PostAsync($"/api/chats/{chatId}/files", form);
        await response.ShouldBe(HttpStatusCode.Created);
        return (await response.ReadAsync<FileDto>()).Id;
    }
}

public sealed record FuzzScene(
    Guid Group, Guid Direct, Guid MyMessage, Guid FriendMessage, Guid MyFile,
    Guid StrangerGroup, Guid StrangerMessage, Guid StrangerFile, Guid Me, Guid Friend, Guid Stranger)
{
    public IReadOnlyList<Guid> Ids => [Group, Direct, MyMessage, FriendMessage, MyFile, StrangerGroup, StrangerMessage, StrangerFile, Me, Friend, Stranger];
}
