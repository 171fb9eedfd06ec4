using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Whisper.Client;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>Every wait for an event is bounded, and awaits the event itself rather than sleeping.</summary>
public static class Waits
{
    public static readonly TimeSpan Event = TimeSpan.FromSeconds(10);

    /// <summary>For state with no event to await (a row being deleted): checks often, gives up after the bound.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? bound = null)
    {
        var limit = bound ?? Event;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds} s for {what}.");
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>
/// A raw SignalR connection of one device that records every event it receives, so tests can count
/// copies (the client library would hide duplicates) and await the ones they expect.
/// </summary>
public sealed class Device : IAsyncDisposable
{
    private readonly ConcurrentQueue<(string Name, object Payload)> received = new();
    private readonly SemaphoreSlim arrived = new(0);

    private Device(HubConnection connection)
    {
        Connection = connection;
        // Why the connection ended, for tests to say when an invocation finds it closed.
        connection.Closed += error =>
        {
            ClosedBecause = $"closed at {DateTime.UtcNow:HH:mm:ss.fff} by {(error is null ? "a clean close" : $"{error.GetType().Name}: {error.Message}")}";
            return Task.CompletedTask;
        };
        foreach (var (name, type) in new (string, Type)[]
        {
            ("messageCreated", typeof(Message)), ("messageUpdated", typeof(Message)), ("receiptUpdated", typeof(ReceiptUpdate)),
            ("presenceChanged", typeof(PresenceUpdate)), ("typing", typeof(Typing)), ("chatCreated", typeof(Chat)),
            ("chatUpdated", typeof(Chat)), ("memberRemoved", typeof(MemberRemoval)),
        })
        {
            connection.On(name, [type], arguments =>
            {
                received.Enqueue((name, arguments[0]!));
                arrived.Release();
                return Task.CompletedTask;
            });
        }
    }

    public HubConnection Connection { get; }

    /// <summary>When and why the connection closed; null while it is open (or was never started).</summary>
    public string? ClosedBecause { get; private set; }

    public static Task<Device> ConnectAsync(
        WhisperServer server, TestUser user, HubProtocolKind protocol = HubProtocolKind.Json, TimeSpan? keepAlive = null, string? token = null) =>
        ConnectAsync(server.BaseAddress, user, protocol, keepAlive, token);

    public static async Task<Device> ConnectAsync(
        Uri serverAddress, TestUser user, HubProtocolKind protocol = HubProtocolKind.Json, TimeSpan? keepAlive = null, string? token = null)
    {
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(serverAddress, "hubs/chat"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token ?? user.Session.AccessToken));
        if (protocol == HubProtocolKind.MessagePack)
        {
            builder.AddMessagePackProtocol();
        }
        else
        {
            builder.AddJsonProtocol(options => options.PayloadSerializerOptions = WhisperClient.JsonOptions);
        }

        var connection = builder.Build();
        connection.KeepAliveInterval = keepAlive ?? TimeSpan.FromSeconds(15);
        var device = new Device(connection);
        using var timeout = new CancellationTokenSource(Waits.Event);
        await connection.StartAsync(timeout.Token);
        // The handshake is answered before the server's OnConnectedAsync has run (presence, groups);
        // invocations are dispatched only after it, so one round trip means the connection is settled.
        await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => connection.InvokeAsync("Settle", timeout.Token));
        return device;
    }

    public IEnumerable<T> All<T>(string name) => received.Where(e => e.Name == name).Select(e => (T)e.Payload);

    /// <summary>Waits until an event of that name matches, or fails the test after the bounded wait.</summary>
    public async Task<T> WaitFor<T>(string name, Func<T, bool>? match = null)
    {
        using var timeout = new CancellationTokenSource(Waits.Event);
        while (true)
        {
            var found = All<T>(name).FirstOrDefault(e => match?.Invoke(e) ?? true);
            if (found is not null)
            {
                return found;
            }

            try
            {
                await arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching {name} within {Waits.Event.TotalSeconds} s; received: {string.Join(", ", received.GroupBy(e => e.Name).Select(g => $"{g.Count()} {g.Key}"))}");
            }
        }
    }

    public Task<Message> WaitForMessage(Func<Message, bool> match) => WaitFor("messageCreated", match);

    public int CopiesOf(Guid messageId) => All<Message>("messageCreated").Count(m => m.Id == messageId);

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        arrived.Dispose();
    }
}
