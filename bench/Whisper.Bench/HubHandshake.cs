using System.Net.WebSockets;
using System.Text;

namespace Whisper.Bench;

/// <summary>How the generator's lean clients (<see cref="HubSocket"/>, <see cref="IdleConnections"/>) open a raw WebSocket to the hub.</summary>
public static class HubHandshake
{
    /// <summary>SignalR ends each JSON record, the handshake's among them, with this byte.</summary>
    public const byte RecordSeparator = 0x1e;

    /// <summary>
    /// Connects <paramref name="socket"/> to the hub with the access token in the address, as browsers must, and
    /// completes SignalR's handshake for <paramref name="protocol"/> ("json" or "messagepack"); answers the bytes that
    /// arrived after the handshake's answer, the start of the hub's first messages.
    /// </summary>
    public static async Task<byte[]> ConnectAsync(ClientWebSocket socket, Uri server, string accessToken, string protocol, CancellationToken cancellationToken)
    {
        var address = new UriBuilder(new Uri(server, "hubs/chat"))
        {
            Scheme = server.Scheme == "https" ? "wss" : "ws",
            Query = $"access_token={Uri.EscapeDataString(accessToken)}",
        };
        await socket.ConnectAsync(address.Uri, cancellationToken);
        var handshake = Encoding.UTF8.GetBytes($$"""{"protocol":"{{protocol}}","version":1}""" + (char)RecordSeparator);
        await socket.SendAsync(handshake, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

        var answer = new byte[256];
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(answer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (Array.IndexOf(answer, RecordSeparator, 0, length) < 0 && result.MessageType != WebSocketMessageType.Close && length < answer.Length);

        // The answer is JSON whatever the protocol: "{}" or {"error": "..."}, then the separator.
        var text = Encoding.UTF8.GetString(answer, 0, length);
        if (!text.StartsWith("{}" + (char)RecordSeparator, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The hub refused the handshake: {text.TrimEnd((char)RecordSeparator)}");
        }

        return answer[3..length];
    }
}
