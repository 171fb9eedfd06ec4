using System.Net;
using System.Text;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>Malformed requests of every kind get a clear 4xx problem answer, never a 500.</summary>
public sealed class BadInputTests(SharedServer server)
{
    public static TheoryData<string, string> Bodies => new()
    {
        { "malformed", "{\"content\": " },
        { "not an object", "[1,2,3]" },
        { "wrong types", "{\"content\": 42, \"clientMessageId\": {\"a\": 1}, \"fileId\": \"nope\", \"type\": 7, \"name\": [], \"userIds\": \"x\", \"role\": 3, \"status\": true, \"memberIds\": [\"x\"], \"userId\": 5, \"displayName\": 1, \"lastSeenVisibility\": 2, \"login\": 1, \"password\": 2, \"username\": 3, \"refreshToken\": 4}" },
        { "empty", "" },
        { "null", "null" },
        { "string", "\"text\"" },
        { "deep", new string('[', 5000) + new string(']', 5000) },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Bad_bodies_get_400_problems_on_every_endpoint_that_takes_one(string kind, string body)
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var group = await alice.GroupAsync("g", bob);
        var message = await alice.SendAsync(chat.Id, "x");
        var endpoints = new (HttpMethod Method, string Path, HttpClient Client)[]
        {
            (HttpMethod.Post, "/api/register", server.Anonymous()),
            (HttpMethod.Post, "/api/login", server.Anonymous()),
            (HttpMethod.Post, "/api/refresh", server.Anonymous()),
            (HttpMethod.Put, $"/api/users/{alice.Id}", alice.Http),
            (HttpMethod.Post, "/api/chats", alice.Http),
            (HttpMethod.Put, $"/api/chats/{group.Id}", alice.Http),
            (HttpMethod.Post, $"/api/chats/{group.Id}/users", alice.Http),
            (HttpMethod.Put, $"/api/chats/{group.Id}/users/{bob.Id}", alice.Http),
            (HttpMethod.Post, $"/api/chats/{chat.Id}/messages", alice.Http),
            (HttpMethod.Put, $"/api/messages/{message.Id}", alice.Http),
            (HttpMethod.Post, $"/api/messages/{message.Id}/status", bob.Http),
        };

        foreach (var (method, path, client) in endpoints)
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest,
                $"{kind} body to {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Single((await alice.GetAsync<Common.Page<Messages.MessageDto>>($"/api/chats/{chat.Id}/messages")).Items);
    }

    [Theory]
    [InlineData("/api/chats?limit=abc")]
    [InlineData("/api/chats?before=yesterday")]
    [InlineData("/api/users?limit=1e9")]
    [InlineData("/api/chats/{chat}/messages?before=x")]
    [InlineData("/api/chats/{chat}/messages?after=-")]
    [InlineData("/api/chats/{chat}/messages?limit=99999999999999999999")]
    public async Task Bad_query_values_are_400_problems(string path)
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var response = await alice.Http.GetAsync(path.Replace("{chat}", chat.Id.ToString(), StringComparison.Ordinal));

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Out_of_range_limits_are_clamped_not_errors()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        await (await alice.Http.GetAsync($"/api/chats/{chat.Id}/messages?limit=0")).ShouldBe(HttpStatusCode.OK);
        await (await alice.Http.GetAsync($"/api/chats/{chat.Id}/messages?limit=-5")).ShouldBe(HttpStatusCode.OK);
        await (await alice.Http.GetAsync("/api/chats?limit=100000")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_wrong_content_type_is_415()
    {
        var alice = await server.RegisterAsync();

        var response = await alice.Http.PostAsync("/api/chats", new StringContent("type=group&name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
