using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Whisper.Server.Data;

namespace Whisper.Server.Auth;

public static class AuthExtensions
{
    public static IHostApplicationBuilder AddWhisperAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMemoryCache();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<Tokens>();
        services.AddSingleton<SessionCache>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddScoped<AuthService>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<Tokens, SessionCache>((jwt, tokens, sessions) =>
            {
                jwt.MapInboundClaims = false;
                // Nothing reads the raw token back, and a hub connection would hold it for its whole life.
                jwt.SaveToken = false;
                jwt.TokenValidationParameters = tokens.ValidationParameters();
                jwt.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        // Browsers cannot set headers on WebSockets, <img> or <video>: those send the token in the query.
                        if (IsQueryTokenPath(context.HttpContext.Request) && context.Request.Query["access_token"] is [{ Length: > 0 } token])
                        {
                            context.Token = token;
                        }

                        return Task.CompletedTask;
                    },
                    // The session must be live and the subject's own: a signed token naming one user with
                    // another's session (or a subject that is not an id) is refused, not trusted half-way.
                    OnTokenValidated = async context =>
                    {
                        var sessionClaim = context.Principal?.FindFirst(Tokens.SessionIdClaim)?.Value;
                        var userClaim = context.Principal?.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
                        if (!Guid.TryParse(sessionClaim, out var sessionId) || !Guid.TryParse(userClaim, out var userId)
                            || !await sessions.IsActiveAsync(sessionId, userId, context.HttpContext.RequestAborted))
                        {
                            context.Fail("The session has ended.");
                            return;
                        }

                        context.Principal = SlimPrincipal(userId, sessionId, context.Principal!.Identity!.Name);
                    },
                };
            });
        services.AddAuthorization();
        return builder;
    }

    /// <summary>
    /// Only what Whisper reads: a hub connection keeps its principal (twice: the authentication result is cached
    /// and cloned) for as long as it is open, and the validated one also holds the parsed token and every claim.
    /// </summary>
    private static ClaimsPrincipal SlimPrincipal(Guid userId, Guid sessionId, string? userName) => new(new ClaimsIdentity(
        [
            new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()),
            new Claim(Tokens.SessionIdClaim, sessionId.ToString()),
            new Claim(JwtRegisteredClaimNames.UniqueName, userName ?? ""),
        ],
        JwtBearerDefaults.AuthenticationScheme,
        JwtRegisteredClaimNames.UniqueName,
        ClaimsIdentity.DefaultRoleClaimType));

    private static bool IsQueryTokenPath(HttpRequest request) =>
        request.Path.StartsWithSegments("/hubs")
        || (HttpMethods.IsGet(request.Method) && request.Path.StartsWithSegments("/api/files"));
}
