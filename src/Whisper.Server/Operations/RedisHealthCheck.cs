using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using Whisper.Server.Realtime;

namespace Whisper.Server.Operations;

/// <summary>
/// Ready only while Redis answers; the multiplexer reconnects by itself when it returns. The answer comes
/// at once: while Redis is away the multiplexer holds commands back for seconds (waiting to reconnect),
/// and a readiness check that hangs that long looks to a load balancer like a node that does not answer.
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    /// <summary>How long a ping may take on a connection that is up; registered as the check's timeout.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Unhealthy("Redis is not connected; reconnecting.");
        }

        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0} ms.");
        }
        catch (Exception exception) when (RedisFailures.Are(exception))
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", exception);
        }
    }
}
