using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>A bare WebSocket speaking the SignalR JSON protocol, so a test can send any frame and read every record.</summary>
public sealed class RawHub : IAsyncDisposable
{
    public const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket socket = new();
    private readonly StringBuilder pending = new();
    private readonly byte[] buffer = new byte[16 * 1024];

    private RawHub()
    {
        socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
    }

    public bool Open => socket.State == WebSocketState.Open;

    public static async Task<RawHub> ConnectAsync(WhisperServer server, string token)
    {
        var hub = new RawHub();
        var address = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/hubs/chat", Query = $"access_token={Uri.EscapeDataString(token)}" }.Uri;
        using var timeout = new CancellationTokenSource(Waits.Event);
        await hub.socket.ConnectAsync(address, timeout.Token);
        await hub.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator), timeout.Token);
        var handshake = await hub.ReceiveAsync(timeout.Token);
        Assert.Equal("{}", handshake);
        return hub;
    }

    public Task SendAsync(byte[] bytes, CancellationToken cancellationToken) =>
        socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>The next record the server sends, or null once the socket is closed.</summary>
    public async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = pending.ToString();
            if (text.IndexOf(RecordSeparator) is var end and >= 0)
            {
                pending.Remove(0, end + 1);
                return text[..end];
            }

            if (socket.State != WebSocketState.Open)
            {
                return null;
            }

            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
            }
            catch (WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }

    /// <summary>
    /// Reads until the completion of <paramref name="invocationId"/> (returned) or the server's close message or
    /// a closed socket (null); everything else (pings, events, other completions) goes to <paramref name="seen"/>.
    /// </summary>
    public async Task<JsonElement?> CompletionOfAsync(string invocationId, List<JsonElement> seen, CancellationToken cancellationToken)
    {
        while (await ReceiveAsync(cancellationToken) is { } record)
        {
            var message = JsonDocument.Parse(record).RootElement.Clone();
            var type = message.GetProperty("type").GetInt32();
            if (type == 7)
            {
                seen.Add(message);
                return null;
            }

            if (type == 3 && message.TryGetProperty("invocationId", out var id) && id.GetString() == invocationId)
            {
                return message;
            }

            seen.Add(message);
        }

        return null;
    }

    public ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
