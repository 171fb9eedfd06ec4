using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;
using Whisper.Server.Auth;
using Whisper.Server.Chats;

namespace Whisper.Server.Realtime;

/// <summary>
/// Changes every node must apply to its own connections: a session ended (refuse its tokens, close
/// its connections) and a user joined or left a chat (move that user's connections in or out of the
/// chat's group). One node only knows its own connections, so these go to all nodes.
/// </summary>
public interface IClusterEvents
{
    Task SessionRevokedAsync(Guid sessionId);

    Task MembershipChangedAsync(Guid userId, Guid chatId, bool joined);
}

/// <summary>Applies a cluster event to this node's connections.</summary>
public sealed class LocalClusterEvents(
    SessionCache sessions, ChatMembershipCache memberships, ConnectionRegistry connections, IHubContext<ChatHub, IChatClient> hub) : IClusterEvents
{
    public Task SessionRevokedAsync(Guid sessionId)
    {
        sessions.MarkRevoked(sessionId);
        return Task.CompletedTask;
    }

    public async Task MembershipChangedAsync(Guid userId, Guid chatId, bool joined)
    {
        memberships.Invalidate(chatId);
        foreach (var connectionId in connections.ConnectionsOf(userId))
        {
            if (joined)
            {
                await hub.Groups.AddToGroupAsync(connectionId, HubGroups.Chat(chatId));
            }
            else
            {
                await hub.Groups.RemoveFromGroupAsync(connectionId, HubGroups.Chat(chatId));
            }
        }
    }
}

/// <summary>
/// Publishes cluster events on Redis; every node (this one included) applies them when they arrive.
/// This node applies them at once as well, so its own changes never wait for the round trip.
/// </summary>
public sealed partial class RedisClusterEvents : IClusterEvents, IHostedService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("whisper:cluster");
    private readonly IConnectionMultiplexer redis;
    private readonly LocalClusterEvents local;
    private readonly ILogger<RedisClusterEvents> logger;

    public RedisClusterEvents(IConnectionMultiplexer redis, LocalClusterEvents local, ILogger<RedisClusterEvents> logger)
    {
        this.redis = redis;
        this.local = local;
        this.logger = logger;
    }

    private sealed record Event(string Kind, Guid A, Guid B, bool Joined);

    public async Task SessionRevokedAsync(Guid sessionId)
    {
        await local.SessionRevokedAsync(sessionId);
        await PublishAsync(new Event("session", sessionId, Guid.Empty, false));
    }

    public async Task MembershipChangedAsync(Guid userId, Guid chatId, bool joined)
    {
        await local.MembershipChangedAsync(userId, chatId, joined);
        await PublishAsync(new Event("membership", userId, chatId, joined));
    }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        await redis.GetSubscriber().SubscribeAsync(Channel, (channel, value) => _ = ApplyAsync(value));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(Channel);
        }
        catch (Exception exception) when (RedisFailures.Are(exception))
        {
            // The subscription ends with the connection anyway; a slow or absent Redis must not fail a shutdown.
        }
    }

    private async Task PublishAsync(Event change)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, JsonSerializer.Serialize(change));
        }
        catch (Exception exception) when (RedisFailures.Are(exception))
        {
            LogPublishFailed(exception, change.Kind);
        }
    }

    private async Task ApplyAsync(RedisValue value)
    {
        try
        {
            var change = JsonSerializer.Deserialize<Event>(value.ToString())!;
            await (change.Kind == "session" ? local.SessionRevokedAsync(change.A) : local.MembershipChangedAsync(change.A, change.B, change.Joined));
        }
        catch (Exception exception)
        {
            LogApplyFailed(exception);
        }
    }

    [LoggerMessage(LogLevel.Error, "Could not publish the cluster event {Kind}; other nodes apply it late (cache expiry, reconnect)")]
    private partial void LogPublishFailed(Exception exception, string kind);

    [LoggerMessage(LogLevel.Error, "Could not apply a cluster event")]
    private partial void LogApplyFailed(Exception exception);
}
