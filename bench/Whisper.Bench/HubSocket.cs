using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Whisper.Bench;

/// <summary>
/// The chat workloads' hub client: one raw WebSocket speaking SignalR's MessagePack hub protocol, as lean as the
/// bare relay's client, so that the generator's cost does not decide what the server is measured at.
/// </summary>
/// <remarks>
/// SignalR's <c>HubConnection</c> deserialises every message whole and hands it through two pipes and a
/// dispatcher. In a group of 500 at 80,000 deliveries a second that made the generator use as much CPU as the
/// server did, on the same two cores, and pinned to a core of its own it was the limit. This client writes its
/// invocations with SignalR's own protocol and reads, of each <c>messageCreated</c>, only the two fields the
/// workload counts (the sender and the client message id), and of each completion whether it succeeded.
/// </remarks>
public sealed class HubSocket : IAsyncDisposable
{
    private static readonly MessagePackHubProtocol Protocol = new();
    private static readonly byte[] Ping = Protocol.GetMessageBytes(PingMessage.Instance).ToArray();

    private readonly ClientWebSocket socket = new();
    private readonly SemaphoreSlim sending = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> invocations = new();
    private readonly Action<Guid, string?> messageCreated;
    private readonly CancellationTokenSource closing = new();
    private long lastInvocationId;
    private Task receiving = Task.CompletedTask;

    private HubSocket(Action<Guid, string?> messageCreated)
    {
        this.messageCreated = messageCreated;
        // SignalR's pings (PingAsync) keep the connection; the WebSocket's own would be extra frames.
        socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
    }

    /// <summary>Connects and completes the handshake; <paramref name="messageCreated"/> hears (sender, client message id) of every message that arrives.</summary>
    public static async Task<HubSocket> ConnectAsync(Uri server, string accessToken, Action<Guid, string?> messageCreated, CancellationToken cancellationToken)
    {
        var hub = new HubSocket(messageCreated);
        try
        {
            var alreadyReceived = await HubHandshake.ConnectAsync(hub.socket, server, accessToken, "messagepack", cancellationToken);
            hub.receiving = Task.Run(() => hub.ReceiveAsync(alreadyReceived), CancellationToken.None);
            return hub;
        }
        catch
        {
            hub.socket.Dispose();
            throw;
        }
    }

    /// <summary>Invokes a hub method; completes when the server has answered, throws <see cref="HubException"/> when it answered with an error.</summary>
    public async Task InvokeAsync(string method, object?[] arguments, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref lastInvocationId).ToString(CultureInfo.InvariantCulture);
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        invocations[id] = answered;
        try
        {
            await SendAsync(Protocol.GetMessageBytes(new InvocationMessage(id, method, arguments)), cancellationToken);
            await answered.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        finally
        {
            invocations.TryRemove(id, out _);
        }
    }

    /// <summary>SignalR closes a connection it has not heard from for its client timeout (30 s by default).</summary>
    public Task PingAsync(CancellationToken cancellationToken) => SendAsync(Ping, cancellationToken);

    private async Task SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await sending.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            sending.Release();
        }
    }

    /// <summary>
    /// Reads until the server closes or the socket is disposed. Hub messages are length-prefixed and may share a
    /// WebSocket message or span several, so bytes gather in <c>buffer</c> and each whole message is handled.
    /// </summary>
    private async Task ReceiveAsync(byte[] alreadyReceived)
    {
        var buffer = new byte[Math.Max(16 * 1024, alreadyReceived.Length)];
        alreadyReceived.CopyTo(buffer, 0);
        var filled = alreadyReceived.Length;
        try
        {
            while (true)
            {
                var consumed = HandleWholeMessages(buffer, filled);
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(filled), closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                filled += result.Count;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // Disposed, or the server went away: what did not arrive is counted as lost.
        }
        finally
        {
            foreach (var waiting in invocations.Values)
            {
                waiting.TrySetException(new HubException("The connection closed before the server answered."));
            }
        }
    }

    /// <summary>Handles every whole message in the first <paramref name="filled"/> bytes; answers how many bytes they took.</summary>
    private int HandleWholeMessages(byte[] buffer, int filled)
    {
        var consumed = 0;
        // Each message: its length as a variable-length integer (7 bits a byte, low bits first), then its MessagePack.
        while (TryReadLength(buffer.AsSpan(consumed, filled - consumed), out var length, out var prefix) && consumed + prefix + length <= filled)
        {
            Handle(new ReadOnlyMemory<byte>(buffer, consumed + prefix, length));
            consumed += prefix + length;
        }

        return consumed;
    }

    private static bool TryReadLength(ReadOnlySpan<byte> bytes, out int length, out int prefix)
    {
        length = 0;
        for (prefix = 0; prefix < Math.Min(5, bytes.Length); prefix++)
        {
            length |= (bytes[prefix] & 0x7f) << (7 * prefix);
            if ((bytes[prefix] & 0x80) == 0)
            {
                prefix++;
                return true;
            }
        }

        return false;
    }

    // The hub protocol's message types (SignalR's HubProtocolConstants).
    private const int InvocationMessageType = 1;
    private const int CompletionMessageType = 3;
    private const int ErrorResult = 1;

    private void Handle(ReadOnlyMemory<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        reader.ReadArrayHeader();
        switch (reader.ReadInt32())
        {
            // [1, headers, invocation id, target, [arguments]]
            case InvocationMessageType:
                reader.Skip();
                reader.Skip();
                if (ReadStringSpan(ref reader).SequenceEqual("messageCreated"u8))
                {
                    reader.ReadArrayHeader();
                    ReadMessageCreated(ref reader);
                }

                break;
            // [3, headers, invocation id, result kind, result or error]
            case CompletionMessageType:
                reader.Skip();
                var id = reader.ReadString()!;
                var kind = reader.ReadInt32();
                if (invocations.TryRemove(id, out var waiting))
                {
                    if (kind == ErrorResult)
                    {
                        waiting.TrySetException(new HubException(reader.ReadString()));
                    }
                    else
                    {
                        waiting.TrySetResult();
                    }
                }

                break;
            // Pings and anything else: nothing to do. A close message is followed by the socket's close.
        }
    }

    /// <summary>A message is a map with the .NET property names as keys (docs/decisions.md); only two are read.</summary>
    private void ReadMessageCreated(ref MessagePackReader reader)
    {
        var sender = Guid.Empty;
        string? clientMessageId = null;
        for (var fields = reader.ReadMapHeader(); fields > 0; fields--)
        {
            var key = ReadStringSpan(ref reader);
            if (key.SequenceEqual("SenderId"u8))
            {
                if (!Utf8Parser.TryParse(ReadStringSpan(ref reader), out sender, out _))
                {
                    throw new InvalidDataException("A message's SenderId is not a Guid.");
                }
            }
            else if (key.SequenceEqual("ClientMessageId"u8))
            {
                clientMessageId = reader.ReadString();
            }
            else
            {
                reader.Skip();
            }
        }

        messageCreated(sender, clientMessageId);
    }

    /// <summary>The payload is one contiguous block, so a string is always a span of it.</summary>
    private static ReadOnlySpan<byte> ReadStringSpan(ref MessagePackReader reader) =>
        reader.TryReadStringSpan(out var span) ? span : throw new InvalidDataException("A string was expected.");

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync();
        socket.Abort();
        await receiving;
        socket.Dispose();
        sending.Dispose();
        closing.Dispose();
    }
}
