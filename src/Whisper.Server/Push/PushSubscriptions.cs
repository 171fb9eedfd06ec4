using Microsoft.EntityFrameworkCore;
using Whisper.Server.Common;
using Whisper.Server.Data;

namespace Whisper.Server.Push;

/// <summary>The browser's <c>PushSubscription.toJSON()</c>.</summary>
public sealed record SubscribeRequest(string? Endpoint, SubscriptionKeys? Keys);

public sealed record SubscriptionKeys(string? P256dh, string? Auth);

public sealed record UnsubscribeRequest(string? Endpoint);

public sealed record PublicKeyDto(string PublicKey);

public sealed class PushSubscriptions(WhisperDbContext db, PushEndpointPolicy policy, TimeProvider time)
{
    /// <summary>Stores (or moves to this session) a browser's subscription.</summary>
    public async Task<Result<Done>> SubscribeAsync(Guid userId, Guid sessionId, SubscribeRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors().CheckNoNul(request.Endpoint, "endpoint");
        if (policy.Check(request.Endpoint) is { } endpointProblem)
        {
            errors.Add("endpoint", endpointProblem);
        }

        var p256dh = Base64Url.TryDecode(request.Keys?.P256dh);
        if (p256dh is null || !IsPoint(p256dh))
        {
            errors.Add("keys.p256dh", "keys.p256dh must be the base64url of an uncompressed P-256 public key.");
        }

        if (Base64Url.TryDecode(request.Keys?.Auth) is not { Length: 16 })
        {
            errors.Add("keys.auth", "keys.auth must be the base64url of 16 bytes.");
        }

        if (errors.Any)
        {
            return errors.ToFailure();
        }

        var existing = await db.PushSubscriptions.SingleOrDefaultAsync(s => s.Endpoint == request.Endpoint, cancellationToken);
        if (existing is null)
        {
            db.PushSubscriptions.Add(new PushSubscription
            {
                Id = Ids.New(),
                UserId = userId,
                SessionId = sessionId,
                Endpoint = request.Endpoint!,
                P256dh = request.Keys!.P256dh!,
                Auth = request.Keys.Auth!,
                CreatedAt = time.GetUtcNow().UtcDateTime,
            });
        }
        else
        {
            // The same browser subscribing again (or after another account used it) now belongs to this session.
            (existing.UserId, existing.SessionId, existing.P256dh, existing.Auth) = (userId, sessionId, request.Keys!.P256dh!, request.Keys.Auth!);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.IsUniqueViolation())
        {
            return Failure.Conflict("That subscription was being stored at the same time; try again.");
        }

        return Done.Value;
    }

    public async Task UnsubscribeAsync(Guid userId, UnsubscribeRequest request, CancellationToken cancellationToken)
    {
        // No stored endpoint holds U+0000 (PostgreSQL could not even compare one): there is nothing to remove.
        if (TextRules.HasNul(request.Endpoint))
        {
            return;
        }

        await db.PushSubscriptions.Where(s => s.UserId == userId && s.Endpoint == request.Endpoint).ExecuteDeleteAsync(cancellationToken);
    }

    private static bool IsPoint(byte[] key)
    {
        try
        {
            using var _ = WebPushEncryption.ImportPublicKey(key);
            return true;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
