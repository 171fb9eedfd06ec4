using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

public sealed class User
{
    public Guid Id { get; set; }

    /// <summary>Lower case; unique.</summary>
    public required string UserName { get; set; }

    public required string DisplayName { get; set; }

    /// <summary>Lower case; unique where present.</summary>
    public string? Email { get; set; }

    public required string PasswordHash { get; set; }

    public string? About { get; set; }

    public Guid? AvatarFileId { get; set; }

    public LastSeenVisibility LastSeenVisibility { get; set; } = LastSeenVisibility.Everyone;

    public DateTime CreatedAt { get; set; }

    /// <summary>When the user's last connection closed; null while never connected.</summary>
    public DateTime? LastSeenAt { get; set; }
}

public enum LastSeenVisibility { Everyone, Contacts, Nobody }

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> user)
    {
        user.Property(u => u.UserName).HasMaxLength(32);
        user.HasIndex(u => u.UserName).IsUnique();
        user.Property(u => u.DisplayName).HasMaxLength(64);
        user.Property(u => u.Email).HasMaxLength(254);
        user.HasIndex(u => u.Email).IsUnique();
        user.Property(u => u.About).HasMaxLength(500);
        user.Property(u => u.LastSeenVisibility).HasConversion<string>().HasMaxLength(16);
    }
}
