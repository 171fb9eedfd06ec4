using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Whisper.Server.Common;

/// <summary>Everything under the <c>Whisper</c> configuration section, validated at start-up.</summary>
public sealed class WhisperOptions
{
    public const string Section = "Whisper";

    /// <summary>Holds the SQLite file, local files and generated keys. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public DatabaseOptions Database { get; set; } = new();

    [ValidateObjectMembers]
    public JwtOptions Jwt { get; set; } = new();

    [ValidateObjectMembers]
    public FilesOptions Files { get; set; } = new();

    [ValidateObjectMembers]
    public ChatsOptions Chats { get; set; } = new();

    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; set; } = new();

    [ValidateObjectMembers]
    public RealtimeOptions Realtime { get; set; } = new();

    [ValidateObjectMembers]
    public PushOptions Push { get; set; } = new();

    [ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();

    /// <summary>A StackExchange.Redis connection string; when set, the SignalR backplane, presence and cluster events use Redis.</summary>
    public string? Redis { get; set; }

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}

public enum DatabaseProvider { Sqlite, Postgres }

public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Operators who migrate separately turn this off.</summary>
    public bool ApplyMigrationsOnStart { get; set; } = true;
}

public sealed class JwtOptions
{
    /// <summary>Base64, at least 32 bytes. When absent a key is generated and kept in the data directory; a cluster must share one.</summary>
    public string? SigningKey { get; set; }

    [Required]
    public string Issuer { get; set; } = "whisper";

    [Required]
    public string Audience { get; set; } = "whisper";

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);
}

public sealed class FilesOptions
{
    [Range(1, long.MaxValue)]
    public long MaxBytes { get; set; } = 100L * 1024 * 1024;
}

public sealed class ChatsOptions
{
    [Range(2, 100_000)]
    public int MaxGroupMembers { get; set; } = 1000;
}

public enum StorageProvider { Local, S3 }

/// <summary>Where file bytes live: the data directory, or any S3-compatible object store.</summary>
public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Local;

    /// <summary>The S3 endpoint, e.g. https://s3.eu-west-1.amazonaws.com or a MinIO/Ceph URL.</summary>
    public string? ServiceUrl { get; set; }

    public string Bucket { get; set; } = "whisper-files";

    public string Region { get; set; } = "us-east-1";

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Path-style addressing (https://host/bucket/key), which most self-hosted S3 servers need.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Downloads answer a redirect to a short-lived pre-signed URL, so the bytes bypass the nodes.</summary>
    public bool RedirectDownloads { get; set; }

    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan PresignedUrlLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Web Push (VAPID) settings.</summary>
public sealed class PushOptions
{
    /// <summary>The contact push services may use about this server (RFC 8292 "sub"): a mailto: or https: URL.</summary>
    [Required]
    [RegularExpression("^(mailto:|https://).+", ErrorMessage = "Whisper:Push:Subject must be a mailto: or https: URL.")]
    public string Subject { get; set; } = "mailto:admin@whisper.invalid";

    /// <summary>Base64url VAPID key pair; generated into the data directory when absent. A cluster shares one.</summary>
    public string? PublicKey { get; set; }

    public string? PrivateKey { get; set; }

    /// <summary>Tests only: allows push endpoints on loopback addresses (and plain http there).</summary>
    public bool AllowLoopbackEndpoints { get; set; }

    /// <summary>How long a push service keeps an undelivered notification.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "28.00:00:00")]
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(1);

    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The first retry's delay; each later one doubles it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Hub connection liveness and back-pressure.</summary>
public sealed class RealtimeOptions
{
    /// <summary>How often the server pings an idle client.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A client silent this long (crashed, network gone) is disconnected and turns offline. Clients ping every 15 s by default.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:30:00")]
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A client that does not read what it is sent for this long is disconnected.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>With Redis: how long a node's presence entries live unless it refreshes them (a dead node's users turn offline after it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PresenceExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Bytes buffered per connection of what the client sends before back-pressure applies. What the server
    /// sends is not held back: a client that does not read it is disconnected after <see cref="SendTimeout"/>.
    /// </summary>
    [Range(4096, 16 * 1024 * 1024)]
    public int MaxBufferBytes { get; set; } = 64 * 1024;
}

/// <summary>Fixed windows per partition; <see cref="Enabled"/> = false turns every limit off (load tests).</summary>
public sealed class RateLimitOptions
{
    public bool Enabled { get; set; } = true;

    [ValidateObjectMembers] public RateLimit LoginPerAccount { get; set; } = new(10, 60);
    [ValidateObjectMembers] public RateLimit LoginPerAddress { get; set; } = new(30, 60);
    [ValidateObjectMembers] public RateLimit RegisterPerAddress { get; set; } = new(20, 3600);
    [ValidateObjectMembers] public RateLimit SendPerUser { get; set; } = new(120, 10);
    [ValidateObjectMembers] public RateLimit SendPerAddress { get; set; } = new(600, 10);
    [ValidateObjectMembers] public RateLimit UploadPerUser { get; set; } = new(30, 60);
    [ValidateObjectMembers] public RateLimit UploadPerAddress { get; set; } = new(120, 60);
}

public sealed class RateLimit
{
    public RateLimit() { }

    public RateLimit(int permitLimit, int windowSeconds)
    {
        PermitLimit = permitLimit;
        WindowSeconds = windowSeconds;
    }

    [Range(1, int.MaxValue)]
    public int PermitLimit { get; set; }

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; }

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
