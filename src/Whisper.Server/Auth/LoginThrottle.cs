using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

/// <summary>
/// Limits login attempts per account. The address limit runs in the rate-limiting middleware; the
/// account is only known once the body is read, so this one is consulted by the login itself.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string>? limiter;

    public LoginThrottle(IOptions<WhisperOptions> options)
    {
        var limits = options.Value.RateLimits;
        if (!limits.Enabled)
        {
            return;
        }

        var perAccount = limits.LoginPerAccount;
        limiter = PartitionedRateLimiter.Create<string, string>(account => RateLimitPartition.GetFixedWindowLimiter(account, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = perAccount.PermitLimit, Window = perAccount.Window, QueueLimit = 0 }));
    }

    /// <summary>Null when the attempt may go ahead, otherwise how long to wait.</summary>
    public TimeSpan? TryAttempt(string account)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(account);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
    }

    public void Dispose() => limiter?.Dispose();
}
