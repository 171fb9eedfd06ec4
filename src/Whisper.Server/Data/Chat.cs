using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

public sealed class Chat
{
    public Guid Id { get; set; }

    public ChatType Type { get; set; }

    /// <summary>Group name; null for direct chats (they are named after the other person).</summary>
    public string? Name { get; set; }

    public Guid? AvatarFileId { get; set; }

    /// <summary>
    /// "{smaller user id}:{larger user id}" for direct chats, null for groups. Its unique index makes
    /// "one direct chat per pair" hold under concurrent creation on any number of nodes.
    /// </summary>
    public string? DirectKey { get; set; }

    public Guid CreatedById { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Last activity: creation or the newest message. Orders the chat list.</summary>
    public DateTime UpdatedAt { get; set; }

    /// <summary>The newest message's <c>seq</c>; incremented inside the transaction that stores a message.</summary>
    public long LastSeq { get; set; }

    public List<ChatMember> Members { get; set; } = [];

    public static string DirectKeyOf(Guid a, Guid b) => a.CompareTo(b) < 0 ? $"{a}:{b}" : $"{b}:{a}";
}

public enum ChatType { Direct, Group }

public enum ChatRole { Member, Admin, Owner }

/// <summary>A member of a chat, with its receipt watermarks (the highest seq delivered to / read by it).</summary>
public sealed class ChatMember
{
    public Guid ChatId { get; set; }

    public Guid UserId { get; set; }

    public ChatRole Role { get; set; }

    public DateTime JoinedAt { get; set; }

    /// <summary>The chat's <c>LastSeq</c> when this member joined: it is a recipient only of later messages.</summary>
    public long JoinedSeq { get; set; }

    public long DeliveredSeq { get; set; }

    public DateTime? DeliveredAt { get; set; }

    public long ReadSeq { get; set; }

    public DateTime? ReadAt { get; set; }

    public User? User { get; set; }
}

internal sealed class ChatConfiguration : IEntityTypeConfiguration<Chat>
{
    public void Configure(EntityTypeBuilder<Chat> chat)
    {
        chat.Property(c => c.Type).HasConversion<string>().HasMaxLength(16);
        chat.Property(c => c.Name).HasMaxLength(100);
        chat.Property(c => c.DirectKey).HasMaxLength(80);
        chat.HasIndex(c => c.DirectKey).IsUnique();
        chat.HasMany(c => c.Members).WithOne().HasForeignKey(m => m.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ChatMemberConfiguration : IEntityTypeConfiguration<ChatMember>
{
    public void Configure(EntityTypeBuilder<ChatMember> member)
    {
        member.HasKey(m => new { m.ChatId, m.UserId });
        member.HasIndex(m => m.UserId);
        member.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        member.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
