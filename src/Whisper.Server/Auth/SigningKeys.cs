using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

/// <summary>
/// The HMAC key that signs access tokens: <c>Whisper:Jwt:SigningKey</c> when configured (a cluster shares
/// one), otherwise generated once and kept in the data directory so tokens survive restarts.
/// </summary>
public sealed class SigningKeys
{
    private const int MinimumKeyBytes = 32;

    public SigningKeys(IOptions<WhisperOptions> options)
    {
        var whisper = options.Value;
        Key = new SymmetricSecurityKey(whisper.Jwt.SigningKey is { Length: > 0 } configured
            ? Decode(configured)
            : LoadOrCreate(Path.Combine(whisper.FullDataDirectory, "jwt-signing-key")));
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

    private static byte[] Decode(string configured) => Convert.FromBase64String(configured);

    private static byte[] LoadOrCreate(string path) =>
        Convert.FromBase64String(SecretFiles.ReadOrCreate(path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))).Trim());
}
