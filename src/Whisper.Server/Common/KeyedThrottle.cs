using System.Threading.RateLimiting;

namespace Whisper.Server.Common;

/// <summary>
/// A fixed-window limit per key, for limits the rate-limiting middleware cannot apply: ones keyed by
/// something in the body (login account) or calls that are not HTTP requests (hub invocations).
/// </summary>
public abstract class KeyedThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string>? limiter;

    /// <param name="limit">Null: no limit (rate limits turned off).</param>
    protected KeyedThrottle(RateLimit? limit)
    {
        if (limit is null)
        {
            return;
        }

        limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = limit.PermitLimit, Window = limit.Window, QueueLimit = 0 }));
    }

    /// <summary>Null when the attempt may go ahead, otherwise how long to wait.</summary>
    public TimeSpan? TryAttempt(string key)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
    }

    public void Dispose()
    {
        limiter?.Dispose();
        GC.SuppressFinalize(this);
    }
}
