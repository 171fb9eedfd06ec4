using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

/// <summary>Issues access tokens (JWT carrying the session id) and opaque refresh tokens.</summary>
public sealed class Tokens(SigningKeys keys, IOptions<WhisperOptions> options, TimeProvider time)
{
    public const string SessionIdClaim = "sid";

    private readonly JsonWebTokenHandler handler = new();
    private readonly JwtOptions jwt = options.Value.Jwt;

    public (string Token, DateTime ExpiresAt) CreateAccessToken(Guid userId, string userName, Guid sessionId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var expiresAt = now + jwt.AccessTokenLifetime;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expiresAt,
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()),
                new Claim(JwtRegisteredClaimNames.UniqueName, userName),
                new Claim(SessionIdClaim, sessionId.ToString()),
            ]),
            SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expiresAt);
    }

    /// <summary>256 random bits, base64url; only its hash is stored.</summary>
    public static string CreateRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string refreshToken) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(refreshToken)));

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = jwt.Issuer,
        ValidAudience = jwt.Audience,
        IssuerSigningKey = keys.Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = JwtRegisteredClaimNames.UniqueName,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
    };
}

public static class CurrentUser
{
    /// <summary>The authenticated caller's id; only called behind RequireAuthorization.</summary>
    public static Guid UserId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("No subject claim."));

    public static Guid SessionId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(Tokens.SessionIdClaim) ?? throw new InvalidOperationException("No session claim."));
}
