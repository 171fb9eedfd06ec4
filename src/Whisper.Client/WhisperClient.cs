using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Whisper.Client;

/// <summary>
/// The REST API of a Whisper server. It keeps the session: the access token is refreshed shortly
/// before it expires (one refresh at a time) and once more on a 401, and every rotated refresh token
/// replaces the old one (<see cref="SessionChanged"/> tells when, so an app can store it).
/// </summary>
public sealed class WhisperClient : IDisposable
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly SemaphoreSlim refreshing = new(1, 1);

    public WhisperClient(Uri serverAddress, HttpMessageHandler? handler = null)
        : this(new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = serverAddress, Timeout = TimeSpan.FromSeconds(100) }, ownsHttp: true)
    {
    }

    /// <param name="http">With its BaseAddress set to the server.</param>
    public WhisperClient(HttpClient http, bool ownsHttp = false)
    {
        this.http = http;
        this.ownsHttp = ownsHttp;
    }

    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    public Uri ServerAddress => http.BaseAddress!;

    public Session? Session { get; private set; }

    public event Action<Session?>? SessionChanged;

    /// <summary>Resumes a stored session (its access token may have expired; it is refreshed when needed).</summary>
    public void UseSession(Session? session) => SetSession(session);

    // Accounts

    public async Task<Session> RegisterAsync(string username, string password, string? displayName = null, string? email = null, CancellationToken cancellationToken = default) =>
        SetSession(await SendAsync<Session>(HttpMethod.Post, "api/register", new { username, password, displayName, email }, authenticate: false, cancellationToken))!;

    public async Task<Session> LoginAsync(string login, string password, CancellationToken cancellationToken = default) =>
        SetSession(await SendAsync<Session>(HttpMethod.Post, "api/login", new { login, password }, authenticate: false, cancellationToken))!;

    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        await SendAsync<object>(HttpMethod.Post, "api/logout", null, authenticate: true, cancellationToken);
        SetSession(null);
    }

    /// <summary>A valid access token, refreshed first when it is about to expire.</summary>
    public async Task<string?> GetAccessTokenAsync(CancellationToken cancellationToken = default)
    {
        var session = Session;
        if (session is null)
        {
            return null;
        }

        if (session.ExpiresAt - DateTime.UtcNow > RefreshMargin)
        {
            return session.AccessToken;
        }

        return (await RefreshAsync(session, cancellationToken))?.AccessToken;
    }

    /// <summary>Rotates the refresh token now. Concurrent callers share one refresh.</summary>
    public async Task<Session?> RefreshAsync(Session? stale = null, CancellationToken cancellationToken = default)
    {
        stale ??= Session;
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            // Someone else refreshed while we waited: use theirs, never present a rotated token.
            if (Session is null || !ReferenceEquals(Session, stale))
            {
                return Session;
            }

            try
            {
                return SetSession(await SendAsync<Session>(HttpMethod.Post, "api/refresh", new { refreshToken = stale.RefreshToken }, authenticate: false, cancellationToken));
            }
            catch (WhisperApiException exception) when (exception.Status == HttpStatusCode.Unauthorized)
            {
                SetSession(null);
                throw;
            }
        }
        finally
        {
            refreshing.Release();
        }
    }

    // Users

    public Task<Me> GetMeAsync(CancellationToken cancellationToken = default) => GetAsync<Me>("api/users/me", cancellationToken);

    public Task<User> GetUserAsync(Guid userId, CancellationToken cancellationToken = default) => GetAsync<User>($"api/users/{userId}", cancellationToken);

    public Task<LastSeen> GetLastSeenAsync(Guid userId, CancellationToken cancellationToken = default) => GetAsync<LastSeen>($"api/users/{userId}/last-seen", cancellationToken);

    public Task<Page<User>> SearchUsersAsync(string search, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync<Page<User>>($"api/users?search={Uri.EscapeDataString(search)}{Query("limit", limit)}", cancellationToken);

    public Task<Me> UpdateProfileAsync(ProfileUpdate update, CancellationToken cancellationToken = default) =>
        SendAsync<Me>(HttpMethod.Put, $"api/users/{Session?.User.Id}", update, authenticate: true, cancellationToken)!;

    // Chats

    public Task<Page<Chat>> ListChatsAsync(int? limit = null, DateTime? before = null, CancellationToken cancellationToken = default) =>
        GetAsync<Page<Chat>>($"api/chats?{Query("limit", limit)}{Query("before", before?.ToString("O"))}", cancellationToken);

    public Task<Chat> GetChatAsync(Guid chatId, CancellationToken cancellationToken = default) => GetAsync<Chat>($"api/chats/{chatId}", cancellationToken);

    public Task<Chat> OpenDirectChatAsync(Guid userId, CancellationToken cancellationToken = default) =>
        SendAsync<Chat>(HttpMethod.Post, "api/chats", new { type = "direct", userId }, authenticate: true, cancellationToken)!;

    public Task<Chat> CreateGroupAsync(string name, IEnumerable<Guid> memberIds, CancellationToken cancellationToken = default) =>
        SendAsync<Chat>(HttpMethod.Post, "api/chats", new { type = "group", name, memberIds }, authenticate: true, cancellationToken)!;

    public Task<Chat> RenameChatAsync(Guid chatId, string name, CancellationToken cancellationToken = default) =>
        SendAsync<Chat>(HttpMethod.Put, $"api/chats/{chatId}", new { name }, authenticate: true, cancellationToken)!;

    public Task<Chat> AddMembersAsync(Guid chatId, IEnumerable<Guid> userIds, CancellationToken cancellationToken = default) =>
        SendAsync<Chat>(HttpMethod.Post, $"api/chats/{chatId}/users", new { userIds }, authenticate: true, cancellationToken)!;

    /// <summary>Removes a member, or leaves when <paramref name="userId"/> is the caller.</summary>
    public Task RemoveMemberAsync(Guid chatId, Guid userId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"api/chats/{chatId}/users/{userId}", null, authenticate: true, cancellationToken);

    public Task<Chat> SetRoleAsync(Guid chatId, Guid userId, ChatRole role, CancellationToken cancellationToken = default) =>
        SendAsync<Chat>(HttpMethod.Put, $"api/chats/{chatId}/users/{userId}", new { role }, authenticate: true, cancellationToken)!;

    // Messages

    public Task<Page<Message>> ListMessagesAsync(Guid chatId, long? before = null, long? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync<Page<Message>>($"api/chats/{chatId}/messages?{Query("before", before)}{Query("after", after)}{Query("limit", limit)}", cancellationToken);

    /// <summary>Sends over REST; a retry with the same ClientMessageId returns the stored message.</summary>
    public Task<Message> SendMessageAsync(Guid chatId, NewMessage message, CancellationToken cancellationToken = default) =>
        SendAsync<Message>(HttpMethod.Post, $"api/chats/{chatId}/messages", message, authenticate: true, cancellationToken)!;

    public Task<Message> EditMessageAsync(Guid messageId, string content, CancellationToken cancellationToken = default) =>
        SendAsync<Message>(HttpMethod.Put, $"api/messages/{messageId}", new { content }, authenticate: true, cancellationToken)!;

    public Task DeleteMessageAsync(Guid messageId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"api/messages/{messageId}", null, authenticate: true, cancellationToken);

    public Task<Page<Message>> SearchMessagesAsync(Guid chatId, string text, long? before = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync<Page<Message>>($"api/chats/{chatId}/messages/search?q={Uri.EscapeDataString(text)}{Query("before", before)}{Query("limit", limit)}", cancellationToken);

    public Task<MessageStatus> GetMessageStatusAsync(Guid messageId, CancellationToken cancellationToken = default) =>
        GetAsync<MessageStatus>($"api/messages/{messageId}/status", cancellationToken);

    public Task<MessageStatus> MarkAsync(Guid messageId, ReceiptStatus status, CancellationToken cancellationToken = default) =>
        SendAsync<MessageStatus>(HttpMethod.Post, $"api/messages/{messageId}/status", new { status }, authenticate: true, cancellationToken)!;

    // Files

    public async Task<FileInfo> UploadAsync(Guid chatId, Stream content, string fileName, string contentType, CancellationToken cancellationToken = default)
    {
        using var form = new MultipartFormDataContent();
        var part = new StreamContent(content);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        form.Add(part, "file", fileName);
        return (await SendAsync<FileInfo>(HttpMethod.Post, $"api/chats/{chatId}/files", form, authenticate: true, cancellationToken))!;
    }

    public Task<Page<FileInfo>> ListFilesAsync(Guid chatId, int? limit = null, DateTime? before = null, CancellationToken cancellationToken = default) =>
        GetAsync<Page<FileInfo>>($"api/chats/{chatId}/files?{Query("limit", limit)}{Query("before", before?.ToString("O"))}", cancellationToken);

    /// <summary>The file's bytes as a stream the caller disposes.</summary>
    public async Task<Stream> DownloadAsync(Guid fileId, CancellationToken cancellationToken = default)
    {
        var response = await SendRawAsync(() => new HttpRequestMessage(HttpMethod.Get, $"api/files/{fileId}"), authenticate: true, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    public Task DeleteFileAsync(Guid fileId, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"api/files/{fileId}", null, authenticate: true, cancellationToken);

    // Plumbing

    private Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) => SendAsync<T>(HttpMethod.Get, path, null, authenticate: true, cancellationToken)!;

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, bool authenticate, CancellationToken cancellationToken)
    {
        HttpRequestMessage Build() => new(method, path)
        {
            Content = body switch
            {
                null => null,
                HttpContent content => content,
                _ => JsonContent.Create(body, body.GetType(), options: JsonOptions),
            },
        };

        using var response = await SendRawAsync(Build, authenticate, HttpCompletionOption.ResponseContentRead, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
        return response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object)
            ? default
            : await response.Content.ReadFromJsonAsync<T>(JsonOptions, cancellationToken);
    }

    /// <summary>Sends with the access token, refreshing and retrying once if the server says it expired.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(Func<HttpRequestMessage> build, bool authenticate, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var request = build();
        var session = Session;
        if (authenticate)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await GetAccessTokenAsync(cancellationToken));
            session = Session;
        }

        var response = await http.SendAsync(request, completion, cancellationToken);
        if (!authenticate || response.StatusCode != HttpStatusCode.Unauthorized || session is null || request.Content is MultipartContent)
        {
            return response;
        }

        response.Dispose();
        var renewed = await RefreshAsync(session, cancellationToken);
        var retry = build();
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", renewed?.AccessToken);
        return await http.SendAsync(retry, completion, cancellationToken);
    }

    private static async Task ThrowIfProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ProblemBody? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<ProblemBody>(JsonOptions, cancellationToken);
        }
        catch (JsonException)
        {
            // Not a problem document: the status says it all.
        }

        throw new WhisperApiException(response.StatusCode, problem?.Title, problem?.Detail, problem?.Errors)
        {
            RetryAfter = response.Headers.RetryAfter?.Delta,
        };
    }

    private Session? SetSession(Session? session)
    {
        Session = session;
        SessionChanged?.Invoke(session);
        return session;
    }

    private static string Query(string name, object? value) => value is null ? "" : $"&{name}={Uri.EscapeDataString(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!)}";

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        return options;
    }

    private sealed record ProblemBody(string? Title, string? Detail, Dictionary<string, string[]>? Errors);

    public void Dispose()
    {
        refreshing.Dispose();
        if (ownsHttp)
        {
            http.Dispose();
        }
    }
}
