using System.Collections.Concurrent;

namespace Whisper.Server.Presence;

/// <summary>Counts live connections per user: a user is online while any of its devices is connected.</summary>
public interface IPresenceTracker
{
    /// <summary>True when this was the user's first connection (offline → online).</summary>
    ValueTask<bool> ConnectedAsync(Guid userId);

    /// <summary>True when this was the user's last connection (online → offline).</summary>
    ValueTask<bool> DisconnectedAsync(Guid userId);

    ValueTask<IReadOnlySet<Guid>> OnlineAmongAsync(IReadOnlyCollection<Guid> userIds);
}

/// <summary>The embedded default: one process knows every connection.</summary>
public sealed class InMemoryPresenceTracker : IPresenceTracker
{
    private readonly ConcurrentDictionary<Guid, int> connections = new();

    public ValueTask<bool> ConnectedAsync(Guid userId) =>
        ValueTask.FromResult(connections.AddOrUpdate(userId, 1, (_, count) => count + 1) == 1);

    public ValueTask<bool> DisconnectedAsync(Guid userId)
    {
        while (connections.TryGetValue(userId, out var count))
        {
            if (count <= 1 ? connections.TryRemove(new KeyValuePair<Guid, int>(userId, count)) : connections.TryUpdate(userId, count - 1, count))
            {
                return ValueTask.FromResult(count <= 1);
            }
        }

        return ValueTask.FromResult(false);
    }

    public ValueTask<IReadOnlySet<Guid>> OnlineAmongAsync(IReadOnlyCollection<Guid> userIds) =>
        ValueTask.FromResult<IReadOnlySet<Guid>>(userIds.Where(connections.ContainsKey).ToHashSet());
}
