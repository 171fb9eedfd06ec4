using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Whisper.Server.Operations;

/// <summary>Ready only while Redis answers; the multiplexer reconnects by itself when it returns.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0} ms.");
        }
        catch (RedisException exception)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", exception);
        }
    }
}
