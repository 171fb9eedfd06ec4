using StackExchange.Redis;

namespace Whisper.Server.Realtime;

/// <summary>What Redis being away or stalled looks like to its callers, who carry on without it.</summary>
public static class RedisFailures
{
    /// <summary>
    /// A lost or refused connection is a <see cref="RedisException"/>; a stalled Redis's command timeout is a
    /// <see cref="TimeoutException"/> (<see cref="RedisTimeoutException"/> derives from it, not from RedisException),
    /// and a loop that caught only the former once let a timeout stop its node.
    /// </summary>
    public static bool Are(Exception exception) => exception is RedisException or TimeoutException;
}
