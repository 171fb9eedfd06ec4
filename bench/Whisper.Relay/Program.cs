using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

// The ceiling for the fan-out benchmarks: a bare Kestrel WebSocket relay with no persistence, no
// authentication and no SignalR. A client joins a room (?room=); each binary frame it sends is
// acknowledged to it and relayed to every other member of the room, unchanged but for its first byte.
//   frame: [kind: 0 sent, 1 acknowledged, 2 relayed][anything the client wants, up to 4 KiB]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
app.UseWebSockets();
var rooms = new ConcurrentDictionary<string, Room>();

app.MapGet("/ready", () => "ready");
app.Map("/relay", async (HttpContext context, string room) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        return Results.BadRequest("A WebSocket request is expected.");
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var member = new Member(socket);
    var joined = rooms.GetOrAdd(room, _ => new Room());
    joined.Add(member);
    var writing = member.WriteAsync();
    try
    {
        var buffer = new byte[4096];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                length += result.Count;
            }
            while (!result.EndOfMessage && length < buffer.Length);

            if (result.MessageType == WebSocketMessageType.Close || length == 0)
            {
                break;
            }

            var acknowledgement = buffer[..length];
            acknowledgement[0] = 1;
            await member.SendAsync(acknowledgement);
            var relayed = buffer[..length];
            relayed[0] = 2;
            foreach (var other in joined.Members)
            {
                if (other != member)
                {
                    await other.SendAsync(relayed);
                }
            }
        }
    }
    catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
    {
        // The client went away.
    }
    finally
    {
        joined.Remove(member);
        member.Outbox.Writer.TryComplete();
        await writing;
    }

    return Results.Empty;
});

app.Run();

internal sealed class Room
{
    private readonly Lock gate = new();

    // Copied on change, read without a lock on every frame.
    public Member[] Members { get; private set; } = [];

    public void Add(Member member)
    {
        lock (gate)
        {
            Members = [.. Members, member];
        }
    }

    public void Remove(Member member)
    {
        lock (gate)
        {
            Members = Members.Where(m => m != member).ToArray();
        }
    }
}

/// <summary>One connection; its frames go out one at a time, in order, from its own loop.</summary>
internal sealed class Member(WebSocket socket)
{
    public Channel<byte[]> Outbox { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(10_000) { SingleReader = true });

    /// <summary>Queues a frame; waits while 10,000 are queued; drops it once the connection has gone.</summary>
    public async ValueTask SendAsync(byte[] frame)
    {
        try
        {
            await Outbox.Writer.WriteAsync(frame);
        }
        catch (ChannelClosedException)
        {
        }
    }

    public async Task WriteAsync()
    {
        try
        {
            await foreach (var frame in Outbox.Reader.ReadAllAsync())
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            Outbox.Writer.TryComplete();
        }
    }
}
