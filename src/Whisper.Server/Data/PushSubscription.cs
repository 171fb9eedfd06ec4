using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

/// <summary>One browser's Web Push subscription, tied to the session that made it (logout ends it).</summary>
public sealed class PushSubscription
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public Guid SessionId { get; set; }

    /// <summary>The push service URL the browser gave; unique.</summary>
    public required string Endpoint { get; set; }

    /// <summary>The browser's P-256 public key, base64url (65 bytes, uncompressed).</summary>
    public required string P256dh { get; set; }

    /// <summary>The browser's 16-byte authentication secret, base64url.</summary>
    public required string Auth { get; set; }

    public DateTime CreatedAt { get; set; }
}

internal sealed class PushSubscriptionConfiguration : IEntityTypeConfiguration<PushSubscription>
{
    public void Configure(EntityTypeBuilder<PushSubscription> subscription)
    {
        subscription.Property(s => s.Endpoint).HasMaxLength(2048);
        subscription.HasIndex(s => s.Endpoint).IsUnique();
        subscription.HasIndex(s => s.UserId);
        subscription.HasIndex(s => s.SessionId);
        subscription.Property(s => s.P256dh).HasMaxLength(100);
        subscription.Property(s => s.Auth).HasMaxLength(40);
        subscription.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
