using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Realtime;
using Whisper.Server.Tests.Infrastructure;
using ClientMessage = Whisper.Client.Message;
using ClientReceiptUpdate = Whisper.Client.ReceiptUpdate;
using ClientTyping = Whisper.Client.Typing;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// Every endpoint and every hub method, called by every kind of caller, answers as the tables in
/// <see cref="AuthorizationTable"/> and <see cref="HubAuthorizationTable"/> say; the tables cannot
/// forget an endpoint because they are checked against the OpenAPI document and the hub's methods.
/// </summary>
public sealed class AuthorizationMatrixTests(AuthorizationWorld world) : IClassFixture<AuthorizationWorld>
{
    private WhisperServer Server => world.Server;

    public static TheoryData<string, Caller> Cells()
    {
        var cells = new TheoryData<string, Caller>();
        foreach (var row in AuthorizationTable.Rows)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                cells.Add(row.Key, caller);
            }
        }

        return cells;
    }

    public static TheoryData<string, Caller> HubCells()
    {
        var cells = new TheoryData<string, Caller>();
        foreach (var row in HubAuthorizationTable.Rows)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                cells.Add(row.Method, caller);
            }
        }

        return cells;
    }

    [Fact]
    public async Task The_table_has_a_row_for_every_endpoint_of_the_OpenAPI_document_and_no_other()
    {
        var documented = (await OpenApiOperations.FetchAsync(Server.Anonymous())).Select(o => o.Key).ToHashSet();
        var tabled = AuthorizationTable.Rows.Where(r => !r.Operational).Select(r => r.Key).ToHashSet();

        var missing = documented.Except(tabled).Order().ToList();
        var stale = tabled.Except(documented).Order().ToList();

        Assert.True(missing.Count == 0 && stale.Count == 0,
            $"Endpoints with no row in AuthorizationTable: [{string.Join(", ", missing)}]; rows for endpoints that no longer exist: [{string.Join(", ", stale)}]");
        Assert.Equal(AuthorizationTable.Rows.Count, AuthorizationTable.Rows.Select(r => r.Key).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public Task Each_endpoint_answers_each_caller_as_the_table_says(string endpoint, Caller caller) => world.Tally.RunAsync(async () =>
    {
        var row = AuthorizationTable.Row(endpoint);
        var scene = row.Operational ? new Scene(Guid.Empty, Guid.Empty, Guid.Empty, Guid.Empty, Guid.Empty, Guid.Empty, world) : await world.SceneAsync();
        var client = await world.ClientForAsync(caller, row.FreshSession);
        var expected = row.Expected.For(caller);

        var response = await SendAsync(client, row, scene);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"{row.Key} as {caller}: expected {expected} but got {(int)response.StatusCode}: {Shorten(body)}");
        if (expected >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        if (expected == StatusCodes.NotFound)
        {
            // No enumeration: hidden looks exactly like missing.
            var ghost = await SendAsync(client, row, scene.Ghost());
            await ghost.ShouldBe(HttpStatusCode.NotFound);
            var (hidden, missing) = (await response.ReadProblemAsync(body), await ghost.ReadProblemAsync());
            Assert.Equal((missing.Title, missing.Detail), (hidden.Title, hidden.Detail));
        }

        if (response.IsSuccessStatusCode && row.Afterwards is { } afterwards)
        {
            await afterwards(scene, client);
        }
    });

    [Fact]
    public void The_hub_table_has_a_row_for_every_hub_method_and_no_other()
    {
        // What SignalR exposes: public instance methods declared by ChatHub itself, not the Hub base's overrides.
        var methods = typeof(ChatHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(ChatHub))
            .Select(m => m.Name).ToHashSet();
        var tabled = HubAuthorizationTable.Rows.Select(r => r.Method).ToHashSet();

        Assert.True(methods.SetEquals(tabled),
            $"Hub methods with no row: {string.Join(", ", methods.Except(tabled))}; rows with no method: {string.Join(", ", tabled.Except(methods))}");
    }

    [Theory]
    [MemberData(nameof(HubCells))]
    public Task Each_hub_method_answers_each_caller_as_the_table_says(string method, Caller caller) => world.Tally.RunAsync(async () =>
    {
        var row = HubAuthorizationTable.Rows.Single(r => r.Method == method);
        var group = await world.GroupAsync();
        var toMark = await world.Target.SendAsync(group.Id, "to be marked");
        Assert.Equal(1, toMark.Seq);
        var arguments = ArgumentsFor(method, group.Id);

        switch (row.Outcomes.For(caller))
        {
            case HubOutcome.RefusedAtConnect:
                var connection = new HubConnectionBuilder().WithUrl(new Uri(Server.BaseAddress, "hubs/chat")).Build();
                await using (connection)
                {
                    using var timeout = new CancellationTokenSource(Waits.Event);
                    var refused = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync(timeout.Token));
                    Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                }

                break;

            case HubOutcome.ClosedOnLogout:
                await ClosedOnLogoutAsync(world.UserFor(caller)!, method, arguments);
                break;

            case HubOutcome.Refused:
                await RefusedAsync(world.UserFor(caller)!, group.Id, method, arguments);
                break;

            case HubOutcome.Succeeds:
                await SucceedsAsync(world.UserFor(caller)!, group.Id, method, arguments);
                break;
        }
    });

    private static object?[] ArgumentsFor(string method, Guid chatId) => method switch
    {
        "SendMessage" => [chatId.ToString(), new { content = "over the hub", clientMessageId = Guid.NewGuid().ToString() }],
        "MarkDelivered" or "MarkRead" => [chatId.ToString(), 1L],
        "Typing" => [chatId.ToString()],
        _ => throw new InvalidOperationException($"No arguments for hub method {method}: add them with its row."),
    };

    /// <summary>A live connection of a member's session is closed by its logout; the token then cannot connect again.</summary>
    private async Task ClosedOnLogoutAsync(TestUser member, string method, object?[] arguments)
    {
        var session = await world.LoginAsync(member);
        await using var device = await Device.ConnectAsync(Server, session);
        var closed = new TaskCompletionSource();
        device.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        await (await session.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);

        await closed.Task.WaitAsync(Waits.Event);
        await Assert.ThrowsAsync<InvalidOperationException>(() => device.Connection.InvokeCoreAsync(method, arguments));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => Device.ConnectAsync(Server, session));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    /// <summary>A HubException, the connection stays up, no event reaches a member and nothing is stored.</summary>
    private async Task RefusedAsync(TestUser caller, Guid chatId, string method, object?[] arguments)
    {
        await using var observer = await Device.ConnectAsync(Server, world.Target);
        await using var device = await Device.ConnectAsync(Server, caller);
        var receiptsBefore = await ReceiptAdvancesAsync(chatId);

        var refusal = await Assert.ThrowsAsync<HubException>(() => device.Connection.InvokeCoreAsync(method, arguments));

        Assert.Contains("not found", refusal.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HubConnectionState.Connected, device.Connection.State);
        // Events reach a connection in order: once a later message arrived, an event of the refused call would have too.
        var sentinel = await world.Owner.SendAsync(chatId, "sentinel");
        await observer.WaitForMessage(m => m.Id == sentinel.Id);
        Assert.Equal([sentinel.Id], observer.All<ClientMessage>("messageCreated").Select(m => m.Id));
        Assert.Empty(observer.All<ClientTyping>("typing"));
        Assert.DoesNotContain(observer.All<ClientReceiptUpdate>("receiptUpdated"), r => r.UserId == caller.Id);
        Assert.Equal(2, await Server.QueryStoreAsync(db => db.Chats.Where(c => c.Id == chatId).Select(c => c.LastSeq).SingleAsync()));
        Assert.Equal(receiptsBefore, await ReceiptAdvancesAsync(chatId));
    }

    /// <summary>Done, with the evidence each method leaves: a stored message, a moved watermark, a typing event.</summary>
    private async Task SucceedsAsync(TestUser caller, Guid chatId, string method, object?[] arguments)
    {
        await using var observer = await Device.ConnectAsync(Server, world.Target);
        await using var device = await Device.ConnectAsync(Server, caller);

        switch (method)
        {
            case "SendMessage":
                var sent = await device.Connection.InvokeCoreAsync<ClientMessage>(method, arguments);
                Assert.Equal(2, sent.Seq);
                await observer.WaitForMessage(m => m.Id == sent.Id);
                break;
            case "MarkDelivered" or "MarkRead":
                await device.Connection.InvokeCoreAsync(method, arguments);
                await observer.WaitFor<ClientReceiptUpdate>("receiptUpdated", r => r.UserId == caller.Id && r.Seq == 1);
                var watermark = await Server.QueryStoreAsync(db => db.ChatMembers
                    .Where(m => m.ChatId == chatId && m.UserId == caller.Id).Select(m => new { m.DeliveredSeq, m.ReadSeq }).SingleAsync());
                Assert.Equal(1, watermark.DeliveredSeq);
                Assert.Equal(method == "MarkRead" ? 1 : 0, watermark.ReadSeq);
                break;
            case "Typing":
                await device.Connection.InvokeCoreAsync(method, arguments);
                await observer.WaitFor<ClientTyping>("typing", t => t.UserId == caller.Id && t.ChatId == chatId);
                break;
            default:
                throw new InvalidOperationException($"No evidence of success for hub method {method}: add it with its row.");
        }
    }

    private Task<int> ReceiptAdvancesAsync(Guid chatId) => Server.QueryStoreAsync(db => db.ReceiptAdvances.CountAsync(r => r.ChatId == chatId));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, MatrixRow row, Scene scene)
    {
        var request = await row.Build(scene);
        return await client.SendAsync(new HttpRequestMessage(new HttpMethod(row.Method), request.PathAndQuery) { Content = request.Body });
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";

    private static class StatusCodes
    {
        public const int NotFound = 404;
    }
}

internal static class ProblemReading
{
    public static async Task<Microsoft.AspNetCore.Mvc.ProblemDetails> ReadProblemAsync(this HttpResponseMessage response, string? body = null) =>
        System.Text.Json.JsonSerializer.Deserialize<Microsoft.AspNetCore.Mvc.ProblemDetails>(body ?? await response.Content.ReadAsStringAsync(), Json.Options)!;
}
