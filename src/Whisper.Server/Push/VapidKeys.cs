using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Push;

/// <summary>
/// The server's VAPID identity (RFC 8292): a P-256 key pair, configured or generated once into the
/// data directory, that signs a short-lived JWT for each push service origin.
/// </summary>
public sealed class VapidKeys : IDisposable
{
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(12);
    private readonly ECDsa signingKey;
    private readonly PushOptions options;
    private readonly TimeProvider time;

    public VapidKeys(IOptions<WhisperOptions> whisper, TimeProvider time)
    {
        options = whisper.Value.Push;
        this.time = time;
        var (publicKey, privateKey) = options.PrivateKey is { Length: > 0 } configured
            ? (options.PublicKey ?? "", configured)
            : LoadOrCreate(Path.Combine(whisper.Value.FullDataDirectory, "vapid-keys.json"));
        var point = Base64Url.TryDecode(publicKey) ?? throw new InvalidOperationException("Whisper:Push:PublicKey is not base64url.");
        signingKey = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64Url.TryDecode(privateKey) ?? throw new InvalidOperationException("Whisper:Push:PrivateKey is not base64url."),
            Q = new ECPoint { X = point[1..33], Y = point[33..] },
        });
        PublicKey = publicKey;
    }

    /// <summary>The application server key browsers subscribe with, base64url.</summary>
    public string PublicKey { get; }

    /// <summary>The Authorization header value for a push service: <c>vapid t=&lt;JWT&gt;, k=&lt;public key&gt;</c>.</summary>
    public string AuthorizationFor(Uri endpoint)
    {
        var audience = endpoint.GetLeftPart(UriPartial.Authority);
        var expires = time.GetUtcNow().Add(TokenLifetime).ToUnixTimeSeconds();
        var header = Base64Url.EncodeText("""{"typ":"JWT","alg":"ES256"}""");
        var claims = Base64Url.Encode(JsonSerializer.SerializeToUtf8Bytes(new { aud = audience, exp = expires, sub = options.Subject }));
        var signature = signingKey.SignData(System.Text.Encoding.ASCII.GetBytes($"{header}.{claims}"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"vapid t={header}.{claims}.{Base64Url.Encode(signature)}, k={PublicKey}";
    }

    private static (string PublicKey, string PrivateKey) LoadOrCreate(string path)
    {
        var stored = JsonSerializer.Deserialize<StoredKeys>(SecretFiles.ReadOrCreate(path, () =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var parameters = key.ExportParameters(includePrivateParameters: true);
            return JsonSerializer.Serialize(new StoredKeys(Base64Url.Encode([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]), Base64Url.Encode(parameters.D!)));
        }))!;
        return (stored.PublicKey, stored.PrivateKey);
    }

    private sealed record StoredKeys(string PublicKey, string PrivateKey);

    public void Dispose() => signingKey.Dispose();
}
