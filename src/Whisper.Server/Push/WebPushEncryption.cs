using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Whisper.Server.Push;

/// <summary>
/// Message encryption for Web Push (RFC 8291) in the aes128gcm content coding (RFC 8188), with
/// .NET's own ECDH, HKDF and AES-GCM. One record: the payload is at most a few kilobytes.
/// </summary>
public static class WebPushEncryption
{
    private const int RecordSize = 4096;
    private const int TagLength = 16;

    /// <param name="userAgentPublicKey">The subscription's p256dh: 65 bytes, uncompressed P-256 point.</param>
    /// <param name="authSecret">The subscription's 16-byte auth secret.</param>
    /// <param name="serverKey">Ephemeral key; a new one per message unless given (test vectors).</param>
    /// <param name="salt">16 random bytes per message unless given (test vectors).</param>
    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] userAgentPublicKey, byte[] authSecret, ECDiffieHellman? serverKey = null, byte[]? salt = null)
    {
        using var ephemeral = serverKey is null ? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256) : null;
        var server = serverKey ?? ephemeral!;
        salt ??= RandomNumberGenerator.GetBytes(16);
        var serverPublicKey = PublicKeyBytes(server);

        using var userAgent = ImportPublicKey(userAgentPublicKey);
        var sharedSecret = server.DeriveRawSecretAgreement(userAgent.PublicKey);

        // RFC 8291 section 3.4: combine the ECDH secret with the auth secret, then derive key and nonce.
        var keyInfo = Concat("WebPush: info\0"u8, userAgentPublicKey, serverPublicKey);
        var inputKey = HKDF.Expand(HashAlgorithmName.SHA256, HKDF.Extract(HashAlgorithmName.SHA256, sharedSecret, authSecret), 32, keyInfo);
        var pseudoRandomKey = HKDF.Extract(HashAlgorithmName.SHA256, inputKey, salt);
        var contentKey = HKDF.Expand(HashAlgorithmName.SHA256, pseudoRandomKey, 16, "Content-Encoding: aes128gcm\0"u8.ToArray());
        var nonce = HKDF.Expand(HashAlgorithmName.SHA256, pseudoRandomKey, 12, "Content-Encoding: nonce\0"u8.ToArray());

        // A single, last record: the plaintext, then the 0x02 delimiter (no further padding).
        var padded = new byte[plaintext.Length + 1];
        plaintext.CopyTo(padded);
        padded[^1] = 2;

        // Header (RFC 8188 section 2.1): salt, record size, key id length, key id = server public key.
        var header = new byte[16 + 4 + 1 + serverPublicKey.Length];
        salt.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(16), RecordSize);
        header[20] = (byte)serverPublicKey.Length;
        serverPublicKey.CopyTo(header, 21);

        var body = new byte[header.Length + padded.Length + TagLength];
        header.CopyTo(body, 0);
        using var aes = new AesGcm(contentKey, TagLength);
        aes.Encrypt(nonce, padded, body.AsSpan(header.Length, padded.Length), body.AsSpan(header.Length + padded.Length));
        return body;
    }

    /// <summary>The uncompressed point 0x04 || X || Y.</summary>
    public static byte[] PublicKeyBytes(ECAlgorithm key)
    {
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        return [0x04, .. point.X!, .. point.Y!];
    }

    /// <summary>Imports a 65-byte uncompressed P-256 point, refusing anything not on the curve.</summary>
    public static ECDiffieHellman ImportPublicKey(byte[] uncompressedPoint)
    {
        if (uncompressedPoint is not [0x04, ..] || uncompressedPoint.Length != 65)
        {
            throw new CryptographicException("Not an uncompressed P-256 point.");
        }

        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = uncompressedPoint[1..33], Y = uncompressedPoint[33..] },
        });
    }

    private static byte[] Concat(ReadOnlySpan<byte> label, byte[] first, byte[] second) => [.. label, .. first, .. second];
}

public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[]? TryDecode(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 4096)
        {
            return null;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var written) ? buffer[..written] : null;
    }

    public static string EncodeText(string text) => Encode(Encoding.UTF8.GetBytes(text));
}
