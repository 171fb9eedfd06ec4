using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Whisper.Server.Data;

namespace Whisper.Server.Auth;

/// <summary>
/// Answers "is this session still live?" for every authenticated request without a database round
/// trip each time: live answers are cached briefly, revocations are recorded at once.
/// </summary>
public sealed class SessionCache(IMemoryCache cache, IServiceScopeFactory scopes, TimeProvider time)
{
    private static readonly TimeSpan LiveFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RevokedFor = TimeSpan.FromDays(1);

    /// <summary>Whether the session is live and belongs to the user the token names.</summary>
    public async ValueTask<bool> IsActiveAsync(Guid sessionId, Guid userId, CancellationToken cancellationToken)
    {
        // The cached value is the session's owner while it is live, null once it has ended.
        if (cache.TryGetValue(Key(sessionId), out Guid? cachedOwner))
        {
            return cachedOwner == userId;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var owner = await db.Sessions.Where(s => s.Id == sessionId && s.RevokedAt == null && s.ExpiresAt > now)
            .Select(s => (Guid?)s.UserId).SingleOrDefaultAsync(cancellationToken);
        cache.Set(Key(sessionId), owner, owner is null ? RevokedFor : LiveFor);
        return owner == userId;
    }

    /// <summary>Raised when a session ends on this node, so whatever holds it open (hub connections) lets go.</summary>
    public event Action<Guid>? SessionRevoked;

    public void MarkRevoked(Guid sessionId)
    {
        cache.Set(Key(sessionId), (Guid?)null, RevokedFor);
        SessionRevoked?.Invoke(sessionId);
    }

    private static string Key(Guid sessionId) => $"session:{sessionId}";
}
