using System.Net.Http.Json;
using Whisper.Server.Auth;
using Whisper.Server.Chats;
using Whisper.Server.Messages;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>A registered user with an HTTP client that carries their access token.</summary>
public sealed record TestUser(HttpClient Http, SessionDto Session)
{
    public const string Password = "correct horse battery";

    public Guid Id => Session.User.Id;

    public string Username => Session.User.Username;

    public async Task<ChatDto> DirectChatWithAsync(TestUser other)
    {
        var response = await Http.PostAsJsonAsync("/api/chats", new { type = "direct", userId = other.Id }, Json.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ChatDto>(Json.Options))!;
    }

    public async Task<ChatDto> GroupAsync(string name, params TestUser[] members)
    {
        var response = await Http.PostAsJsonAsync("/api/chats", new { type = "group", name, memberIds = members.Select(m => m.Id) }, Json.Options);
        await response.ShouldBe(System.Net.HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<ChatDto>(Json.Options))!;
    }

    public async Task<MessageDto> SendAsync(Guid chatId, string content, string? clientMessageId = null)
    {
        var response = await Http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { content, clientMessageId }, Json.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<MessageDto>(Json.Options))!;
    }

    public Task<T> GetAsync<T>(string path) => Http.GetFromJsonAsync<T>(path, Json.Options)!;
}
