using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Whisper.Server.Common;
using Whisper.Server.Realtime;

namespace Whisper.Server.Presence;

/// <summary>
/// Presence across nodes. Each user has a sorted set of the nodes holding a connection of theirs,
/// scored by when that entry expires; live nodes push the expiry forward, so the users of a node
/// that died turn offline by themselves within <see cref="RealtimeOptions.PresenceExpiry"/>.
/// </summary>
public sealed partial class RedisPresenceTracker(
    IConnectionMultiplexer redis, IOptions<WhisperOptions> options, TimeProvider time, ILogger<RedisPresenceTracker> logger)
    : BackgroundService, IPresenceTracker
{
    private readonly string node = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<Guid, int> local = new();

    private TimeSpan Expiry => options.Value.Realtime.PresenceExpiry;

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey Key(Guid userId) => $"whisper:presence:{userId:N}";

    private double Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async ValueTask<bool> ConnectedAsync(Guid userId)
    {
        if (local.AddOrUpdate(userId, 1, (_, count) => count + 1) > 1)
        {
            return false;
        }

        var wasOnline = await Db.SortedSetLengthAsync(Key(userId), Now, double.PositiveInfinity) > 0;
        await Db.SortedSetAddAsync(Key(userId), node, Now + Expiry.TotalMilliseconds);
        await Db.KeyExpireAsync(Key(userId), Expiry * 2);
        return !wasOnline;
    }

    public async ValueTask<bool> DisconnectedAsync(Guid userId)
    {
        while (local.TryGetValue(userId, out var count))
        {
            if (count > 1 ? local.TryUpdate(userId, count - 1, count) : local.TryRemove(new KeyValuePair<Guid, int>(userId, count)))
            {
                if (count > 1)
                {
                    return false;
                }

                await Db.SortedSetRemoveAsync(Key(userId), node);
                return await Db.SortedSetLengthAsync(Key(userId), Now, double.PositiveInfinity) == 0;
            }
        }

        return false;
    }

    public async ValueTask<IReadOnlySet<Guid>> OnlineAmongAsync(IReadOnlyCollection<Guid> userIds)
    {
        var now = Now;
        var batch = Db.CreateBatch();
        var counts = userIds.Select(id => (id, batch.SortedSetLengthAsync(Key(id), now, double.PositiveInfinity))).ToList();
        batch.Execute();
        var online = new HashSet<Guid>();
        foreach (var (id, count) in counts)
        {
            if (await count > 0)
            {
                online.Add(id);
            }
        }

        return online;
    }

    /// <summary>Keeps this node's entries alive: every third of the expiry, all its users at once.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Expiry / 3, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var batch = Db.CreateBatch();
                var expires = Now + Expiry.TotalMilliseconds;
                var writes = local.Keys.SelectMany(userId => new Task[]
                {
                    batch.SortedSetAddAsync(Key(userId), node, expires),
                    batch.KeyExpireAsync(Key(userId), Expiry * 2),
                }).ToList();
                batch.Execute();
                await Task.WhenAll(writes);
            }
            catch (Exception exception) when (RedisFailures.Are(exception))
            {
                // Redis is away or stalled: entries may lapse and users look offline until the next tick restores
                // them. Thrown on, it would stop the whole node.
                LogRefreshFailed(exception);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not refresh this node's presence entries in Redis; the next tick tries again")]
    private partial void LogRefreshFailed(Exception exception);
}
