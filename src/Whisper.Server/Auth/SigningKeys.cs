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

    /// <summary>Checks a configured key at start-up, so a wrong setting stops the start with a clear message.</summary>
    public static string? Validate(string? configured)
    {
        if (configured is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(configured).Length >= MinimumKeyBytes
                ? null
                : $"Whisper:Jwt:SigningKey must decode to at least {MinimumKeyBytes} bytes.";
        }
        catch (FormatException)
        {
            return "Whisper:Jwt:SigningKey must be base64.";
        }
    }

    private static byte[] Decode(string configured) => Convert.FromBase64String(configured);

    private static byte[] LoadOrCreate(string path) =>
        Convert.FromBase64String(SecretFiles.ReadOrCreate(path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))).Trim());
}
