using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Users;

namespace Whisper.Server.Auth;

public sealed class AuthService(
    WhisperDbContext db,
    IPasswordHasher<User> hasher,
    Tokens tokens,
    Realtime.IClusterEvents cluster,
    LoginThrottle throttle,
    IOptions<WhisperOptions> options,
    TimeProvider time)
{
    private const string BadCredentials = "The login or password is wrong.";

    /// <summary>Verified against when the login names nobody, so both failures take the same time.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => new PasswordHasher<User>().HashPassword(null!, "decoy password"));

    public async Task<Result<SessionDto>> RegisterAsync(RegisterRequest request, string? userAgent, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        UserRules.CheckUserName(request.Username, errors);
        UserRules.CheckPassword(request.Password, errors);
        UserRules.CheckDisplayName(request.DisplayName, errors);
        UserRules.CheckEmail(request.Email, errors);
        if (errors.Any)
        {
            return errors.ToFailure();
        }

        var userName = UserRules.NormalizeUserName(request.Username!);
        var email = UserRules.NormalizeEmail(request.Email);
        if (await db.Users.AnyAsync(u => u.UserName == userName, cancellationToken))
        {
            return Failure.Conflict("That username is taken.");
        }

        if (email is not null && await db.Users.AnyAsync(u => u.Email == email, cancellationToken))
        {
            return Failure.Conflict("That email is already registered.");
        }

        var user = new User
        {
            Id = Ids.New(),
            UserName = userName,
            DisplayName = request.DisplayName?.Trim() ?? userName,
            Email = email,
            PasswordHash = "",
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        user.PasswordHash = hasher.HashPassword(user, request.Password!);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.IsUniqueViolation())
        {
            return Failure.Conflict("That username or email is taken.");
        }

        return await StartSessionAsync(user, userAgent, cancellationToken);
    }

    public async Task<Result<SessionDto>> LoginAsync(LoginRequest request, string? userAgent, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Login) || string.IsNullOrEmpty(request.Password))
        {
            return new ValidationErrors()
                .Require(!string.IsNullOrWhiteSpace(request.Login), "login", "Login (username or email) is required.")
                .Require(!string.IsNullOrEmpty(request.Password), "password", "Password is required.")
                .ToFailure();
        }

        if (TextRules.RefuseNul(request.Login, "login") is { } nul)
        {
            return nul;
        }

        var login = request.Login.Trim().ToLowerInvariant();
        if (throttle.TryAttempt(login) is { } retryAfter)
        {
            return Failure.TooManyRequests("Too many login attempts for this account; try again later.", retryAfter);
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.UserName == login || u.Email == login, cancellationToken);
        if (user is null)
        {
            hasher.VerifyHashedPassword(null!, DecoyHash.Value, request.Password);
            return Failure.Unauthorized(BadCredentials);
        }

        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, request.Password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return Failure.Unauthorized(BadCredentials);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, request.Password);
        }

        return await StartSessionAsync(user, userAgent, cancellationToken);
    }

    /// <summary>
    /// Rotates the refresh token. Presenting a token that was already rotated means it leaked (or a
    /// client kept an old copy): the whole session is revoked.
    /// </summary>
    public async Task<Result<SessionDto>> RefreshAsync(RefreshRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return Failure.Invalid("refreshToken", "Refresh token is required.");
        }

        var hash = Tokens.Hash(request.RefreshToken);
        var now = time.GetUtcNow().UtcDateTime;
        var presented = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (presented is null)
        {
            return Failure.Unauthorized("The refresh token is not valid.");
        }

        var session = await db.Sessions.SingleAsync(s => s.Id == presented.SessionId, cancellationToken);
        if (session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            return Failure.Unauthorized("The session has ended; log in again.");
        }

        // Claim the token atomically: of two concurrent refreshes with one token, only one wins.
        var claimed = presented.RotatedAt is null && await db.RefreshTokens
            .Where(t => t.TokenHash == hash && t.RotatedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RotatedAt, now), cancellationToken) == 1;
        if (!claimed)
        {
            await RevokeAsync(session.Id, cancellationToken);
            return Failure.Unauthorized("The refresh token was already used; the session has been ended.");
        }

        var refreshToken = Tokens.CreateRefreshToken();
        db.RefreshTokens.Add(new RefreshToken { TokenHash = Tokens.Hash(refreshToken), SessionId = session.Id, CreatedAt = now });
        session.ExpiresAt = now + options.Value.Jwt.RefreshTokenLifetime;
        await db.SaveChangesAsync(cancellationToken);

        var user = await db.Users.SingleAsync(u => u.Id == session.UserId, cancellationToken);
        return Issue(user, session.Id, refreshToken);
    }

    public Task LogoutAsync(Guid sessionId, CancellationToken cancellationToken) => RevokeAsync(sessionId, cancellationToken);

    private async Task RevokeAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Sessions.Where(s => s.Id == sessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken);
        // A device that logged out gets no more notifications.
        await db.PushSubscriptions.Where(s => s.SessionId == sessionId).ExecuteDeleteAsync(cancellationToken);
        // Every node: its cached "live" answer and its open connections of this session.
        await cluster.SessionRevokedAsync(sessionId);
    }

    private async Task<SessionDto> StartSessionAsync(User user, string? userAgent, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var refreshToken = Tokens.CreateRefreshToken();
        var session = new Session
        {
            Id = Ids.New(),
            UserId = user.Id,
            CreatedAt = now,
            ExpiresAt = now + options.Value.Jwt.RefreshTokenLifetime,
            UserAgent = userAgent is { Length: > 256 } ? userAgent[..256] : userAgent,
            RefreshTokens = [new RefreshToken { TokenHash = Tokens.Hash(refreshToken), CreatedAt = now }],
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return Issue(user, session.Id, refreshToken);
    }

    private SessionDto Issue(User user, Guid sessionId, string refreshToken)
    {
        var (accessToken, expiresAt) = tokens.CreateAccessToken(user.Id, user.UserName, sessionId);
        return new SessionDto(accessToken, refreshToken, expiresAt, MeDto.From(user));
    }
}
