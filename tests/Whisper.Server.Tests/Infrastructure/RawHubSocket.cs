using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// A hand-made SignalR JSON client on a bare WebSocket, for misbehaving on purpose: going silent, dropping
/// the socket without a close frame, or never reading what the server sends.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly ClientWebSocket socket = new();
    private readonly HttpMessageInvoker invoker;

    private RawHubSocket(int socketReceiveBufferBytes)
    {
        // A small kernel receive buffer makes a client that never reads fill up quickly.
        invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = socketReceiveBufferBytes };
                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        });
        socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
    }

    public static Task<RawHubSocket> ConnectAsync(WhisperServer server, TestUser user, int socketReceiveBufferBytes = 4096) =>
        ConnectAsync(server.BaseAddress, user, socketReceiveBufferBytes);

    public static async Task<RawHubSocket> ConnectAsync(Uri serverAddress, TestUser user, int socketReceiveBufferBytes = 4096)
    {
        var raw = new RawHubSocket(socketReceiveBufferBytes);
        var address = new UriBuilder(serverAddress) { Scheme = "ws", Path = "/hubs/chat", Query = $"access_token={user.Session.AccessToken}" }.Uri;
        using var timeout = new CancellationTokenSource(Waits.Event);
        await raw.socket.ConnectAsync(address, raw.invoker, timeout.Token);
        await raw.SendAsync("""{"protocol":"json","version":1}""", timeout.Token);
        var buffer = new byte[1024];
        var handshake = await raw.socket.ReceiveAsync(buffer, timeout.Token);
        // The first events for the user (a presence change) may follow the handshake answer in the same read.
        Assert.StartsWith("{}" + RecordSeparator, Encoding.UTF8.GetString(buffer, 0, handshake.Count), StringComparison.Ordinal);
        return raw;
    }

    /// <summary>
    /// Opens the socket, asks for the handshake and cuts the connection without waiting for the answer:
    /// the server is then setting the connection up (groups, presence) when it learns that it is gone.
    /// </summary>
    public static async Task ConnectAndAbortDuringSetUpAsync(Uri serverAddress, TestUser user)
    {
        await using var raw = new RawHubSocket(4096);
        var address = new UriBuilder(serverAddress) { Scheme = "ws", Path = "/hubs/chat", Query = $"access_token={user.Session.AccessToken}" }.Uri;
        using var timeout = new CancellationTokenSource(Waits.Event);
        await raw.socket.ConnectAsync(address, raw.invoker, timeout.Token);
        await raw.SendAsync("""{"protocol":"json","version":1}""", timeout.Token);
        raw.Abort();
    }

    /// <summary>A SignalR ping: says "I am alive" without reading anything.</summary>
    public Task PingAsync(CancellationToken cancellationToken) => SendAsync("""{"type":6}""", cancellationToken);

    /// <summary>Drops the connection with no close frame, as a crashed device or a cut network does.</summary>
    public void Abort() => socket.Abort();

    private Task SendAsync(string record, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(record + RecordSeparator), WebSocketMessageType.Text, true, cancellationToken);

    public ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        invoker.Dispose();
        return ValueTask.CompletedTask;
    }
}
