using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Whisper.Client;

public enum HubProtocolKind { Json, MessagePack }

/// <summary>
/// A live connection to a Whisper server's hub. It reconnects by itself, and after every reconnect
/// fetches what it missed, so <see cref="MessageCreated"/> fires exactly once for every message of
/// the user's chats, in <c>seq</c> order per chat, including those this client sent.
/// </summary>
public sealed class WhisperHub : IAsyncDisposable
{
    private readonly WhisperClient client;
    private readonly HubConnection connection;
    private readonly ConcurrentDictionary<Guid, ChatCursor> cursors = new();
    private readonly Channel<Message> messages = Channel.CreateUnbounded<Message>();
    private readonly CancellationTokenSource disposed = new();
    private readonly TimeSpan maxRetryDelay;

    private WhisperHub(WhisperClient client, HubProtocolKind protocol, TimeSpan maxRetryDelay)
    {
        this.client = client;
        this.maxRetryDelay = maxRetryDelay;
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(client.ServerAddress, "hubs/chat"), options =>
            {
                options.AccessTokenProvider = () => client.GetAccessTokenAsync(disposed.Token);
                // WebSockets straight away: no negotiation request that a load balancer could send elsewhere.
                options.SkipNegotiation = true;
                options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
            })
            .WithAutomaticReconnect(new ForeverRetryPolicy(maxRetryDelay));
        if (protocol == HubProtocolKind.MessagePack)
        {
            builder.AddMessagePackProtocol();
        }
        else
        {
            builder.AddJsonProtocol(options => options.PayloadSerializerOptions = WhisperClient.JsonOptions);
        }

        connection = builder.Build();
        connection.On<Message>("messageCreated", message => DeliverAsync(message));
        connection.On<Message>("messageUpdated", message => MessageUpdated?.Invoke(message));
        connection.On<ReceiptUpdate>("receiptUpdated", receipt => ReceiptUpdated?.Invoke(receipt));
        connection.On<PresenceUpdate>("presenceChanged", presence => PresenceChanged?.Invoke(presence));
        connection.On<Typing>("typing", typing => Typing?.Invoke(typing));
        connection.On<Chat>("chatCreated", chat => OnChatAsync(chat, ChatCreated));
        connection.On<Chat>("chatUpdated", chat => OnChatAsync(chat, ChatUpdated));
        connection.On<MemberRemoval>("memberRemoved", removal =>
        {
            if (removal.UserId == client.Session?.User.Id)
            {
                cursors.TryRemove(removal.ChatId, out _);
            }

            MemberRemoved?.Invoke(removal);
        });
        connection.Reconnecting += _ =>
        {
            Reconnecting?.Invoke();
            return Task.CompletedTask;
        };
        connection.Reconnected += async _ =>
        {
            await CatchUpAsync(disposed.Token);
            Reconnected?.Invoke();
        };
        connection.Closed += OnClosedAsync;
    }

    public event Action<Message>? MessageCreated;
    public event Action<Message>? MessageUpdated;
    public event Action<ReceiptUpdate>? ReceiptUpdated;
    public event Action<PresenceUpdate>? PresenceChanged;
    public event Action<Typing>? Typing;
    public event Action<Chat>? ChatCreated;
    public event Action<Chat>? ChatUpdated;
    public event Action<MemberRemoval>? MemberRemoved;
    public event Action? Reconnecting;
    public event Action? Reconnected;

    public HubConnectionState State => connection.State;

    public string? ConnectionId => connection.ConnectionId;

    /// <summary>
    /// Connects. With <paramref name="resumeFrom"/> (the last seq an app stored per chat) everything
    /// after those is fetched and delivered first; other chats are followed from their current last message.
    /// </summary>
    /// <param name="maxRetryDelay">The longest wait between reconnect attempts (default 10 s).</param>
    public static async Task<WhisperHub> ConnectAsync(
        WhisperClient client,
        HubProtocolKind protocol = HubProtocolKind.Json,
        IReadOnlyDictionary<Guid, long>? resumeFrom = null,
        TimeSpan? maxRetryDelay = null,
        CancellationToken cancellationToken = default)
    {
        var hub = new WhisperHub(client, protocol, maxRetryDelay ?? TimeSpan.FromSeconds(10));
        foreach (var (chatId, lastSeq) in resumeFrom ?? new Dictionary<Guid, long>())
        {
            hub.cursors[chatId] = new ChatCursor(lastSeq);
        }

        await hub.connection.StartAsync(cancellationToken);
        await foreach (var chat in hub.AllChatsAsync(cancellationToken))
        {
            hub.cursors.TryAdd(chat.Id, new ChatCursor(chat.LastSeq));
        }

        if (resumeFrom is not null)
        {
            await hub.CatchUpAsync(cancellationToken);
        }

        return hub;
    }

    /// <summary>The last seq delivered for a chat, or null when the chat is not followed.</summary>
    public long? LastSeqOf(Guid chatId) => cursors.TryGetValue(chatId, out var cursor) ? cursor.LastSeq : null;

    /// <summary>Every message as <see cref="MessageCreated"/> raises it, for await-foreach consumers.</summary>
    public async IAsyncEnumerable<Message> ReadMessagesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var message in messages.Reader.ReadAllAsync(cancellationToken))
        {
            yield return message;
        }
    }

    public async Task<Message> SendMessageAsync(Guid chatId, NewMessage message, CancellationToken cancellationToken = default)
    {
        var stored = await InvokeAsync<Message>("SendMessage", [chatId.ToString(), message], cancellationToken);
        await DeliverAsync(stored);
        return stored;
    }

    public Task MarkDeliveredAsync(Guid chatId, long seq, CancellationToken cancellationToken = default) =>
        InvokeAsync<object>("MarkDelivered", [chatId.ToString(), seq], cancellationToken);

    public Task MarkReadAsync(Guid chatId, long seq, CancellationToken cancellationToken = default) =>
        InvokeAsync<object>("MarkRead", [chatId.ToString(), seq], cancellationToken);

    public Task TypingAsync(Guid chatId, CancellationToken cancellationToken = default) =>
        InvokeAsync<object>("Typing", [chatId.ToString()], cancellationToken);

    /// <summary>Fetches and delivers every message missed in every chat (run after each reconnect).</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var chat in AllChatsAsync(cancellationToken))
        {
            var cursor = cursors.GetOrAdd(chat.Id, _ => new ChatCursor(0));
            if (chat.LastSeq > cursor.LastSeq)
            {
                await CatchUpAsync(chat.Id, cancellationToken);
            }
        }
    }

    /// <summary>Fetches and delivers what one chat has after the last delivered seq.</summary>
    public async Task CatchUpAsync(Guid chatId, CancellationToken cancellationToken = default)
    {
        var cursor = cursors.GetOrAdd(chatId, _ => new ChatCursor(0));
        await cursor.Lock.WaitAsync(cancellationToken);
        try
        {
            await FetchMissedAsync(chatId, cursor, cancellationToken);
        }
        finally
        {
            cursor.Lock.Release();
        }
    }

    /// <summary>Delivers in seq order exactly once: duplicates are dropped, a gap is filled from history first.</summary>
    private async Task DeliverAsync(Message message)
    {
        var cursor = cursors.GetOrAdd(message.ChatId, _ => new ChatCursor(message.Seq - 1));
        await cursor.Lock.WaitAsync(disposed.Token);
        try
        {
            if (message.Seq > cursor.LastSeq + 1)
            {
                await FetchMissedAsync(message.ChatId, cursor, disposed.Token);
            }

            if (message.Seq > cursor.LastSeq)
            {
                cursor.LastSeq = message.Seq;
                Raise(message);
            }
        }
        finally
        {
            cursor.Lock.Release();
        }
    }

    private async Task FetchMissedAsync(Guid chatId, ChatCursor cursor, CancellationToken cancellationToken)
    {
        Page<Message> page;
        do
        {
            page = await client.ListMessagesAsync(chatId, after: cursor.LastSeq, limit: 200, cancellationToken: cancellationToken);
            foreach (var missed in page.Items.Where(m => m.Seq > cursor.LastSeq))
            {
                cursor.LastSeq = missed.Seq;
                Raise(missed);
            }
        }
        while (page.HasMore);
    }

    private void Raise(Message message)
    {
        messages.Writer.TryWrite(message);
        MessageCreated?.Invoke(message);
    }

    private async Task OnChatAsync(Chat chat, Action<Chat>? handler)
    {
        // A chat joined while connected is followed from its beginning, so nothing of it is missed.
        if (!cursors.ContainsKey(chat.Id))
        {
            cursors.TryAdd(chat.Id, new ChatCursor(0));
            await CatchUpAsync(chat.Id, disposed.Token);
        }

        handler?.Invoke(chat);
    }

    private async IAsyncEnumerable<Chat> AllChatsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        DateTime? before = null;
        Page<Chat> page;
        do
        {
            page = await client.ListChatsAsync(limit: 100, before: before, cancellationToken: cancellationToken);
            foreach (var chat in page.Items)
            {
                yield return chat;
            }

            before = page.Items.Count > 0 ? page.Items[^1].UpdatedAt : null;
        }
        while (page.HasMore && before is not null);
    }

    private async Task<T> InvokeAsync<T>(string method, object?[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.InvokeCoreAsync<T>(method, arguments, cancellationToken);
        }
        catch (HubException exception)
        {
            const string marker = "HubException: ";
            var at = exception.Message.IndexOf(marker, StringComparison.Ordinal);
            var detail = at >= 0 ? exception.Message[(at + marker.Length)..] : exception.Message;
            throw new WhisperApiException(HttpStatusCode.BadRequest, "Refused", detail);
        }
    }

    /// <summary>
    /// SignalR's automatic reconnect covers a lost connection; a connection the server closed (an
    /// expired token, a stalled client) is restarted here with a fresh token, then caught up.
    /// </summary>
    private async Task OnClosedAsync(Exception? error)
    {
        for (var attempt = 0; !disposed.IsCancellationRequested && client.Session is not null; attempt++)
        {
            try
            {
                await Task.Delay(ForeverRetryPolicy.Delay(attempt, maxRetryDelay), disposed.Token);
                await connection.StartAsync(disposed.Token);
                await CatchUpAsync(disposed.Token);
                Reconnected?.Invoke();
                return;
            }
            catch (OperationCanceledException) when (disposed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or WhisperApiException or InvalidOperationException)
            {
                // The server is still away; try again after a longer wait.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await disposed.CancelAsync();
        connection.Closed -= OnClosedAsync;
        await connection.DisposeAsync();
        messages.Writer.TryComplete();
        disposed.Dispose();
    }

    private sealed class ChatCursor(long lastSeq)
    {
        public long LastSeq { get; set; } = lastSeq;

        public SemaphoreSlim Lock { get; } = new(1, 1);
    }

    private sealed class ForeverRetryPolicy(TimeSpan maxDelay) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => Delay((int)retryContext.PreviousRetryCount, maxDelay);

        /// <summary>0, then doubling from 200 ms up to the cap, with jitter so clients do not return in step.</summary>
        public static TimeSpan Delay(int attempt, TimeSpan cap) => attempt == 0
            ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(Math.Min(cap.TotalMilliseconds, 200 * Math.Pow(2, Math.Min(attempt, 16))) * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
