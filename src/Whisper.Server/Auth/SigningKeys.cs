using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

/// <summary>
/// The HMAC key that signs access tokens: <c>Whisper:Jwt:SigningKey</c> when configured (a cluster shares
/// one), otherwise generated once and kept in the data directory so tokens survive restarts.
/// </summary>
public sealed partial class SigningKeys
{
    private const int MinimumKeyBytes = 32;

    public SigningKeys(IOptions<WhisperOptions> options, ILogger<SigningKeys> logger)
    {
        var whisper = options.Value;
        if (whisper.Jwt.SigningKey is { Length: > 0 } configured)
        {
            Key = new SymmetricSecurityKey(Decode(configured));
            return;
        }

        // With Redis this node is one of a cluster: a key of its own data directory makes every other node
        // refuse the tokens it signs (401 on whichever node a client reaches next), which looks like a bug elsewhere.
        if (whisper.Redis is { Length: > 0 })
        {
            LogKeyNotShared(logger);
        }

        Key = new SymmetricSecurityKey(LoadOrCreate(Path.Combine(whisper.FullDataDirectory, "jwt-signing-key")));
    }

    public SymmetricSecurityKey Key { get; }

    public const string KeyRule = "Whisper:Jwt:SigningKey must be base64 and decode to at least 32 bytes.";

    /// <summary>Checks a configured key at start-up, so a wrong setting stops the start with a clear message.</summary>
    public static bool IsValidOrAbsent(string? configured)
    {
        if (configured is not { Length: > 0 })
        {
            return true;
        }

        var bytes = new byte[configured.Length];
        return Convert.TryFromBase64String(configured, bytes, out var length) && length >= MinimumKeyBytes;
    }

    [LoggerMessage(LogLevel.Warning, "Whisper:Redis is set but Whisper:Jwt:SigningKey is not: this node signs access tokens with a key of its own data directory, which other nodes refuse. Give every node the same Whisper:Jwt:SigningKey (docs/operations.md)")]
    private static partial void LogKeyNotShared(ILogger logger);

    private static byte[] Decode(string configured) => Convert.FromBase64String(configured);

    private static byte[] LoadOrCreate(string path) =>
        Convert.FromBase64String(SecretFiles.ReadOrCreate(path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))).Trim());
}
