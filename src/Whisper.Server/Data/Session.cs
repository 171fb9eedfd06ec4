using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

/// <summary>One login on one device. Access tokens carry its id; revoking it ends both token kinds.</summary>
public sealed class Session
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Moves forward on every refresh (sliding expiry).</summary>
    public DateTime ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    public string? UserAgent { get; set; }

    public List<RefreshToken> RefreshTokens { get; set; } = [];
}

/// <summary>
/// A refresh token, stored only as its SHA-256 hash. A rotated token stays as a tombstone so that its
/// reuse is detected and revokes the whole session.
/// </summary>
public sealed class RefreshToken
{
    public required string TokenHash { get; set; }

    public Guid SessionId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? RotatedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> session)
    {
        session.HasIndex(s => s.UserId);
        session.Property(s => s.UserAgent).HasMaxLength(256);
        session.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        session.HasMany(s => s.RefreshTokens).WithOne().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> token)
    {
        token.HasKey(t => t.TokenHash);
        token.Property(t => t.TokenHash).HasMaxLength(64);
        token.HasIndex(t => t.SessionId);
    }
}
