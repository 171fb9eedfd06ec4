using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Whisper.Server.Auth;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>A server with a known signing key, so tests can forge every kind of bad token.</summary>
public sealed class KnownKeyServer() : WhisperServer(new Dictionary<string, string?> { ["Whisper:Jwt:SigningKey"] = KeyBase64 })
{
    public static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    public static string KeyBase64 => Convert.ToBase64String(Key);
}

public sealed class JwtTests(KnownKeyServer server) : IClassFixture<KnownKeyServer>
{
    [Fact]
    public async Task A_configured_signing_key_signs_the_tokens()
    {
        var user = await server.RegisterAsync();

        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(user.Session.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = "whisper",
            ValidAudience = "whisper",
            IssuerSigningKey = new SymmetricSecurityKey(KnownKeyServer.Key),
        });

        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal(user.Id.ToString(), validation.Claims[JwtRegisteredClaimNames.Sub]);
        Assert.True(validation.Claims.ContainsKey(Tokens.SessionIdClaim));
    }

    [Fact]
    public async Task A_well_formed_token_with_a_live_session_is_accepted()
    {
        var user = await server.RegisterAsync();
        var token = Forge(user, KnownKeyServer.Key);

        await (await Get(token)).ShouldBe(HttpStatusCode.OK);
    }

    public static TheoryData<string> BadTokens => ["wrong key", "expired", "not yet valid", "wrong issuer", "wrong audience", "alg none", "no session", "unknown session"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Bad_tokens_are_refused(string kind)
    {
        var user = await server.RegisterAsync();
        var now = DateTime.UtcNow;
        var token = kind switch
        {
            "wrong key" => Forge(user, RandomNumberGenerator.GetBytes(32)),
            "expired" => Forge(user, KnownKeyServer.Key, notBefore: now.AddHours(-2), expires: now.AddHours(-1)),
            "not yet valid" => Forge(user, KnownKeyServer.Key, notBefore: now.AddHours(1), expires: now.AddHours(2)),
            "wrong issuer" => Forge(user, KnownKeyServer.Key, issuer: "someone-else"),
            "wrong audience" => Forge(user, KnownKeyServer.Key, audience: "someone-else"),
            "alg none" => Unsigned(user),
            "no session" => Forge(user, KnownKeyServer.Key, sessionId: null),
            "unknown session" => Forge(user, KnownKeyServer.Key, sessionId: Guid.NewGuid().ToString()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        await (await Get(token)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_whose_user_was_deleted_is_refused_and_its_refresh_token_too()
    {
        var user = await server.RegisterAsync();
        // There is no API to delete an account; an operator removing the row must still lock the user out.
        await server.QueryStoreAsync(db => db.Users.Where(u => u.Id == user.Id).ExecuteDeleteAsync());

        await (await Get(user.Session.AccessToken)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken })).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_naming_one_user_with_another_user_s_session_is_refused()
    {
        var (victim, attacker) = (await server.RegisterAsync(), await server.RegisterAsync());
        var claims = new JsonWebToken(attacker.Session.AccessToken);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "whisper",
            Audience = "whisper",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, victim.Id.ToString()), new Claim(Tokens.SessionIdClaim, claims.GetClaim(Tokens.SessionIdClaim).Value)]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(KnownKeyServer.Key), SecurityAlgorithms.HmacSha256),
        });

        await (await Get(token)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    private Task<HttpResponseMessage> Get(string token)
    {
        var client = server.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.GetAsync("/api/users/me");
    }

    private static string SessionOf(TestUser user) =>
        new JsonWebToken(user.Session.AccessToken).GetClaim(Tokens.SessionIdClaim).Value;

    private static string Forge(
        TestUser user, byte[] key, DateTime? notBefore = null, DateTime? expires = null,
        string issuer = "whisper", string audience = "whisper", string? sessionId = "current")
    {
        var claims = new List<Claim> { new(JwtRegisteredClaimNames.Sub, user.Id.ToString()) };
        if (sessionId is not null)
        {
            claims.Add(new Claim(Tokens.SessionIdClaim, sessionId == "current" ? SessionOf(user) : sessionId));
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore ?? DateTime.UtcNow,
            NotBefore = notBefore ?? DateTime.UtcNow,
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            Subject = new ClaimsIdentity(claims),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
    }

    private static string Unsigned(TestUser user)
    {
        static string Part(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"sub":"{{user.Id}}","sid":"{{SessionOf(user)}}","iss":"whisper","aud":"whisper","exp":{{exp}}}""")}.";
    }
}
