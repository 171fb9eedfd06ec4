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

    public async ValueTask<bool> IsActiveAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(Key(sessionId), out bool active))
        {
            return active;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        active = await db.Sessions.AnyAsync(s => s.Id == sessionId && s.RevokedAt == null && s.ExpiresAt > now, cancellationToken);
        cache.Set(Key(sessionId), active, active ? LiveFor : RevokedFor);
        return active;
    }

    /// <summary>Raised when a session ends on this node, so whatever holds it open (hub connections) lets go.</summary>
    public event Action<Guid>? SessionRevoked;

    public void MarkRevoked(Guid sessionId)
    {
        cache.Set(Key(sessionId), false, RevokedFor);
        SessionRevoked?.Invoke(sessionId);
    }

    private static string Key(Guid sessionId) => $"session:{sessionId}";
}
