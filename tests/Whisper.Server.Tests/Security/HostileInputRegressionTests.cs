using System.Net.Http.Json;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>Its own server, with its Error log watched, and the count of cases for the security report.</summary>
public sealed class RegressionFixture : IAsyncDisposable
{
    public const string Family = "hostile-input regressions (named cases)";

    public HostileServer Server { get; } = new();

    public CaseTally Tally { get; } = new();

    public async ValueTask DisposeAsync()
    {
        if (Tally.Tried > 0)
        {
            SecurityReport.Write(Family, Tally.Tried, Tally.Failures);
        }

        await Server.DisposeAsync();
    }
}

/// <summary>
/// Inputs that once got a 500, a bare status, a closed connection or an Error in the server's log, each
/// kept as it was found.
/// </summary>
public sealed class HostileInputRegressionTests(RegressionFixture fixture) : IClassFixture<RegressionFixture>
{
    private HostileServer Server => fixture.Server;

    /// <summary>
    /// A client that accepts no JSON (a browser asking for HTML) made the default problem writer write
    /// nothing: a 401 came back as "Status Code: 401; Unauthorized" in plain text, a body that could not be
    /// read as a bare 400, with nothing to say what was wrong.
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/users/me", null, "text/html", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/no-such-thing", null, "application/xml", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/api/users", null, "text/html", HttpStatusCode.MethodNotAllowed)]
    [InlineData("POST", "/api/login", "{", "text/html", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/login", "{\"login\":1}", "application/xml", HttpStatusCode.BadRequest)]
    public Task A_client_that_accepts_no_JSON_still_gets_a_problem(string method, string path, string? body, string accept, HttpStatusCode expected) => fixture.Tally.RunAsync(async () =>
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await Server.Anonymous().SendAsync(request);

        await response.ShouldBeProblem(expected);
    });

    /// <summary>A body in a charset .NET cannot decode made the JSON reader throw: a 500, before anything was validated.</summary>
    [Theory]
    [InlineData("/api/login", "application/json; charset=bogus")]
    [InlineData("/api/login", "application/json; charset=\"x-no-such-charset\"")]
    [InlineData("/api/register", "application/json; charset=utf-7")]
    public Task A_body_in_an_unknown_charset_is_a_415_problem(string path, string contentType) => fixture.Tally.RunAsync(async () =>
    {
        var content = new ByteArrayContent("{\"login\":\"someone\",\"password\":\"x\"}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await Server.Anonymous().PostAsync(path, content);

        var problem = await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("UTF-8", problem.Detail);
    });

    /// <summary>
    /// The hub's 64 KB frame limit was set on options SignalR never read, so the global 32 KB applied and
    /// a 40 KB call closed the connection instead of getting its answer. Found as
    /// MarkDelivered("{chat id in braces}", {"clientMessageId":"aaa… (40 KB)"}).
    /// </summary>
    [Fact]
    public Task A_hub_call_of_40_KB_gets_a_refusal_and_the_connection_stays_up() => fixture.Tally.RunAsync(async () =>
    {
        var user = await Server.RegisterAsync();
        var group = await user.GroupAsync("Frames");
        await using var device = await Device.ConnectAsync(Server, user);

        await Assert.ThrowsAsync<HubException>(() =>
            device.Connection.InvokeCoreAsync("MarkDelivered", [group.Id.ToString("B").ToUpperInvariant(), new { clientMessageId = new string('a', 40_000) }]));

        Assert.Equal(HubConnectionState.Connected, device.Connection.State);
        // And the connection still works.
        await device.Connection.InvokeCoreAsync("Typing", [group.Id.ToString()]);
    });

    /// <summary>The limit itself is real: a frame over 64 KB ends the connection (SignalR's answer to it).</summary>
    [Fact]
    public Task A_hub_call_over_64_KB_closes_the_connection() => fixture.Tally.RunAsync(async () =>
    {
        var user = await Server.RegisterAsync();
        var group = await user.GroupAsync("Frames");
        await using var device = await Device.ConnectAsync(Server, user);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        device.Connection.Closed += exception =>
        {
            closed.TrySetResult(exception);
            return Task.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<Exception>(() =>
            device.Connection.InvokeCoreAsync("SendMessage", [group.Id.ToString(), new { content = "hi", padding = new string('a', 70_000) }]));

        await closed.Task.WaitAsync(Waits.Event);
        Assert.Equal(HubConnectionState.Disconnected, device.Connection.State);
    });

    /// <summary>
    /// A call still running when its caller left was cancelled, and SignalR logged that as a failed invocation,
    /// at Error. Found as a Close message from the client, then {"type":1,…,"target":"Typing",…}.
    /// </summary>
    [Fact]
    public Task A_call_cut_short_by_its_caller_leaving_is_not_logged_as_an_error() => fixture.Tally.RunAsync(async () =>
    {
        var user = await Server.RegisterAsync();
        var group = await user.GroupAsync("Leaving");
        var errorsBefore = Server.Errors.Count;
        using var timeout = new CancellationTokenSource(Waits.Event);

        await using (var hub = await RawHub.ConnectAsync(Server, user.Session.AccessToken))
        {
            var separator = RawHub.RecordSeparator;
            await hub.SendAsync(Encoding.UTF8.GetBytes(
                $"{{\"type\":7}}{separator}{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Typing\",\"arguments\":[\"{group.Id}\"]}}{separator}"), timeout.Token);
            Assert.Null(await hub.CompletionOfAsync("1", [], timeout.Token));
        }

        // Its last connection gone, the user is offline (last seen stored) once the server is done with the connection.
        await Waits.UntilAsync(
            async () => await Server.QueryStoreAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.LastSeenAt).SingleAsync()) is not null,
            "the user to go offline");
        Assert.Empty(Server.Errors.UnexpectedSince(errorsBefore));
    });

    public static TheoryData<string> TextsWithNul =>
        ["user search", "message search", "message content", "edited content", "hub message content", "login", "registration display name", "profile display name", "profile about",
            "push subscription endpoint", "push unsubscription endpoint"];

    /// <summary>
    /// PostgreSQL cannot store or compare text holding U+0000, so such a text reached the database and came
    /// back as a 500 there (SQLite stored it). It is refused alike on every provider. Found as
    /// GET /api/users?search=%00&amp;limit=2.
    /// </summary>
    [Theory]
    [MemberData(nameof(TextsWithNul))]
    public Task Text_holding_a_NUL_character_is_refused_with_a_400_on_every_provider(string field) => fixture.Tally.RunAsync(async () =>
    {
        var user = await Server.RegisterAsync();
        var group = await user.GroupAsync("Nul");
        var message = await user.SendAsync(group.Id, "before");
        const string nul = "a\u0000b";
        var errorsBefore = Server.Errors.Count;

        if (field == "hub message content")
        {
            await using var device = await Device.ConnectAsync(Server, user);
            var refusal = await Assert.ThrowsAsync<HubException>(() => device.Connection.InvokeAsync<object>("SendMessage", group.Id.ToString(), new { content = nul }));
            Assert.Contains("NUL", refusal.Message);
        }
        else
        {
            var response = field switch
            {
                "user search" => await user.Http.GetAsync("/api/users?search=%00&limit=2"),
                "message search" => await user.Http.GetAsync($"/api/chats/{group.Id}/messages/search?q=a%00b"),
                "message content" => await user.Http.PostAsJsonAsync($"/api/chats/{group.Id}/messages", new { content = nul }),
                "edited content" => await user.Http.PutAsJsonAsync($"/api/messages/{message.Id}", new { content = nul }),
                "login" => await Server.Anonymous().PostAsJsonAsync("/api/login", new { login = nul, password = "whatever password" }),
                "registration display name" => await Server.Anonymous().PostAsJsonAsync("/api/register",
                    new { username = $"nul{Guid.NewGuid():N}"[..20], password = "a long enough password", displayName = nul }),
                "profile display name" => await user.Http.PutAsJsonAsync($"/api/users/{user.Id}", new { displayName = nul }),
                "profile about" => await user.Http.PutAsJsonAsync($"/api/users/{user.Id}", new { about = nul }),
                "push subscription endpoint" => await user.Http.PostAsJsonAsync("/api/push/subscriptions",
                    new { endpoint = $"https://push.example/{nul}", keys = new { p256dh = "BAAA", auth = "AAAAAAAAAAAAAAAAAAAAAA" } }),
                // Found as DELETE /api/push/subscriptions {"endpoint":"\u0000"}: no such subscription can exist, so nothing is removed.
                "push unsubscription endpoint" => await user.Http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/push/subscriptions")
                {
                    Content = JsonContent.Create(new { endpoint = nul }),
                }),
                _ => throw new ArgumentOutOfRangeException(nameof(field)),
            };
            if (field == "push unsubscription endpoint")
            {
                await response.ShouldBe(HttpStatusCode.NoContent);
            }
            else
            {
                await response.ShouldBeProblem(HttpStatusCode.BadRequest);
            }
        }

        Assert.Empty(Server.Errors.UnexpectedSince(errorsBefore));
        var history = await user.GetAsync<Common.Page<Messages.MessageDto>>($"/api/chats/{group.Id}/messages");
        Assert.Equal(["before"], history.Items.Select(m => m.Content));
    });
}
