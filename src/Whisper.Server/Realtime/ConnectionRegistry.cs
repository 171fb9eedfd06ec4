using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Whisper.Server.Auth;

namespace Whisper.Server.Realtime;

/// <summary>
/// The hub connections open on this node, by user and by session: membership changes move a user's
/// connections in or out of a chat's group at once, and a revoked session's connections are closed.
/// </summary>
public sealed class ConnectionRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, (Guid UserId, Guid SessionId, HubCallerContext Context)> connections = new();
    private readonly SessionCache sessions;

    public ConnectionRegistry(SessionCache sessions)
    {
        this.sessions = sessions;
        sessions.SessionRevoked += CloseSession;
    }

    public void Add(Guid userId, Guid sessionId, HubCallerContext context) => connections[context.ConnectionId] = (userId, sessionId, context);

    public void Remove(string connectionId) => connections.TryRemove(connectionId, out _);

    public IReadOnlyList<string> ConnectionsOf(Guid userId) =>
        connections.Where(c => c.Value.UserId == userId).Select(c => c.Key).ToList();

    private void CloseSession(Guid sessionId)
    {
        foreach (var (_, (_, session, context)) in connections)
        {
            if (session == sessionId)
            {
                context.Abort();
            }
        }
    }

    public void Dispose() => sessions.SessionRevoked -= CloseSession;
}
