using System.Security.Cryptography;
using System.Text;
using Whisper.Server.Push;

namespace Whisper.Server.Tests.Units;

public sealed class WebPushEncryptionTests
{
    // RFC 8291 Appendix A: published test data.
    private const string Plaintext = "When I grow up, I want to be a watermelon";
    private const string ServerPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    private const string ServerPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    private const string UserAgentPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    private const string UserAgentPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    private const string AuthSecret = "BTBZMqHH6r4Tts7J_aSIgg";
    private const string Salt = "DGv6ra1nlYgDCS1FRnbzlw";
    private const string Body =
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
        "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
        "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    private static byte[] B(string base64Url) => Base64Url.TryDecode(base64Url)!;

    [Fact]
    public void The_rfc_8291_example_encrypts_to_the_exact_published_bytes()
    {
        var publicPoint = B(ServerPublic);
        using var serverKey = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = B(ServerPrivate),
            Q = new ECPoint { X = publicPoint[1..33], Y = publicPoint[33..] },
        });

        var body = WebPushEncryption.Encrypt(Encoding.UTF8.GetBytes(Plaintext), B(UserAgentPublic), B(AuthSecret), serverKey, B(Salt));

        Assert.Equal(Body, Base64Url.Encode(body));
    }

    [Fact]
    public void A_fresh_encryption_decrypts_with_the_user_agent_s_private_key()
    {
        var body = WebPushEncryption.Encrypt(Encoding.UTF8.GetBytes("hello"), B(UserAgentPublic), B(AuthSecret));

        var point = B(UserAgentPublic);
        using var userAgent = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = B(UserAgentPrivate),
            Q = new ECPoint { X = point[1..33], Y = point[33..] },
        });
        Assert.Equal("hello", Encoding.UTF8.GetString(Infrastructure.PushSubscriber.Decrypt(body, userAgent, B(AuthSecret))));
    }

    [Fact]
    public void A_key_that_is_not_a_curve_point_is_refused()
    {
        var notOnCurve = new byte[65];
        notOnCurve[0] = 4;
        notOnCurve[64] = 1;

        Assert.ThrowsAny<CryptographicException>(() => WebPushEncryption.ImportPublicKey(notOnCurve));
    }
}
