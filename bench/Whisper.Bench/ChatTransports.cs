using Whisper.Client;

namespace Whisper.Bench;

/// <summary>How the chat workload reaches a server: Whisper's hub, or a peer's protocol.</summary>
public interface IChatTransport : IAsyncDisposable
{
    /// <summary>Written in the table's title, e.g. "hub with MessagePack".</summary>
    string Description { get; }

    /// <summary>
    /// Connects <paramref name="userCount"/> users in chats of <paramref name="chatSize"/> and answers each
    /// chat's members (user numbers). Every message that arrives is reported as (key, sender, recipient).
    /// </summary>
    Task<IReadOnlyList<int[]>> SetUpAsync(int userCount, int chatSize, Action<string?, int, int> received, CancellationToken cancellationToken);

    /// <summary>Sends one message with the given key; completes when the server has acknowledged (stored) it.</summary>
    Task SendAsync(int sender, int chat, string key, CancellationToken cancellationToken);
}

/// <summary>
/// Whisper: accounts over REST, direct chats or groups, messages over the hub with MessagePack, each user on a
/// <see cref="HubSocket"/> (a lean client, as the relay's is) rather than SignalR's HubConnection.
/// </summary>
public sealed class WhisperHubTransport(Uri server) : IChatTransport
{
    public const string Content = "benchmark message of a typical length, about sixty bytes";
    private readonly List<HubSocket> connections = [];
    private readonly List<string> chatIds = [];
    private readonly CancellationTokenSource closing = new();
    private Task pinging = Task.CompletedTask;

    public string Description => "hub with MessagePack";

    public async Task<IReadOnlyList<int[]>> SetUpAsync(int userCount, int chatSize, Action<string?, int, int> received, CancellationToken cancellationToken)
    {
        var clients = await BenchClients.RegisterAsync(server, userCount, cancellationToken);

        var userIndex = clients.Select((client, i) => (client.Session!.User.Id, i)).ToDictionary();
        var chats = new List<int[]>();
        for (var first = 0; first + chatSize <= userCount; first += chatSize)
        {
            var members = Enumerable.Range(first, chatSize).ToArray();
            var others = members.Skip(1).Select(m => clients[m].Session!.User.Id).ToList();
            var chat = chatSize == 2
                ? await clients[first].OpenDirectChatAsync(others[0], cancellationToken)
                : await clients[first].CreateGroupAsync($"bench group {first / chatSize}", others, cancellationToken);
            chatIds.Add(chat.Id.ToString());
            chats.Add(members);
        }

        foreach (var client in clients)
        {
            var recipient = userIndex[client.Session!.User.Id];
            var token = await client.GetAccessTokenAsync(cancellationToken) ?? throw new InvalidOperationException("A registered user has no access token.");
            connections.Add(await HubSocket.ConnectAsync(server, token,
                (sender, clientMessageId) => received(clientMessageId, userIndex.GetValueOrDefault(sender, -1), recipient), cancellationToken));
        }

        pinging = Task.Run(() => PingAsync(closing.Token), CancellationToken.None);
        return chats;
    }

    public Task SendAsync(int sender, int chat, string key, CancellationToken cancellationToken) =>
        connections[sender].InvokeAsync("SendMessage", [chatIds[chat], new NewMessage(Content, key)], cancellationToken);

    /// <summary>Every 15 s, as SignalR's clients do: a user who sends nothing for 30 s would otherwise be dropped.</summary>
    private async Task PingAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var connection in connections)
            {
                try
                {
                    await connection.PingAsync(cancellationToken);
                }
                catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // A connection that has gone shows as lost messages.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync();
        await pinging;
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        closing.Dispose();
    }
}

/// <summary>
/// The bare relay in bench/Whisper.Relay: no accounts, no storage; a room per chat. A frame is
/// [kind][sender: int32][key length: byte][key][content]; the relay acknowledges it to the sender and
/// passes it to the others, changing only the kind.
/// </summary>
public sealed class BareRelayTransport(Uri relay) : IChatTransport
{
    private const byte Acknowledged = 1;
    private const byte Relayed = 2;
    private static readonly byte[] Content = System.Text.Encoding.UTF8.GetBytes(WhisperHubTransport.Content);
    private readonly List<(System.Net.WebSockets.ClientWebSocket Socket, SemaphoreSlim Sending)> sockets = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> waiting = new();
    private readonly CancellationTokenSource closing = new();
    private readonly List<Task> receiving = [];

    public string Description => "bare WebSocket relay (no storage)";

    public async Task<IReadOnlyList<int[]>> SetUpAsync(int userCount, int chatSize, Action<string?, int, int> received, CancellationToken cancellationToken)
    {
        var chats = new List<int[]>();
        for (var first = 0; first + chatSize <= userCount; first += chatSize)
        {
            chats.Add(Enumerable.Range(first, chatSize).ToArray());
        }

        for (var user = 0; user < chats.Count * chatSize; user++)
        {
            var socket = new System.Net.WebSockets.ClientWebSocket();
            await socket.ConnectAsync(new UriBuilder(relay) { Scheme = "ws", Path = "/relay", Query = $"room={user / chatSize}" }.Uri, cancellationToken);
            sockets.Add((socket, new SemaphoreSlim(1, 1)));
            var recipient = user;
            receiving.Add(Task.Run(() => ReceiveAsync(socket, recipient, received)));
        }

        return chats;
    }

    private async Task ReceiveAsync(System.Net.WebSockets.ClientWebSocket socket, int recipient, Action<string?, int, int> received)
    {
        var buffer = new byte[4096];
        try
        {
            while (!closing.IsCancellationRequested)
            {
                var length = 0;
                System.Net.WebSockets.ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), closing.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                {
                    return;
                }

                var sender = BitConverter.ToInt32(buffer, 1);
                var key = System.Text.Encoding.UTF8.GetString(buffer, 6, buffer[5]);
                if (buffer[0] == Acknowledged && waiting.TryRemove(key, out var acknowledgement))
                {
                    acknowledgement.TrySetResult();
                }
                else if (buffer[0] == Relayed)
                {
                    received(key, sender, recipient);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
        }
    }

    public async Task SendAsync(int sender, int chat, string key, CancellationToken cancellationToken)
    {
        var keyBytes = System.Text.Encoding.UTF8.GetBytes(key);
        var frame = new byte[6 + keyBytes.Length + Content.Length];
        BitConverter.TryWriteBytes(frame.AsSpan(1), sender);
        frame[5] = (byte)keyBytes.Length;
        keyBytes.CopyTo(frame, 6);
        Content.CopyTo(frame, 6 + keyBytes.Length);
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting[key] = acknowledged;
        var (socket, sending) = sockets[sender];
        await sending.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(frame, System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            sending.Release();
        }

        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync();
        await Task.WhenAll(receiving);
        sockets.ForEach(s => s.Socket.Dispose());
    }
}
