using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

public sealed class Message
{
    public Guid Id { get; set; }

    public Guid ChatId { get; set; }

    /// <summary>Gap-free and strictly increasing inside one chat: order, paging cursor and receipt watermark.</summary>
    public long Seq { get; set; }

    public Guid SenderId { get; set; }

    public MessageType Type { get; set; }

    public string? Content { get; set; }

    public Guid? FileId { get; set; }

    public Guid? ReplyToId { get; set; }

    /// <summary>The sender's idempotency key: a retry with the same key stores nothing new.</summary>
    public string? ClientMessageId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? EditedAt { get; set; }

    /// <summary>Set when deleted; content and file are gone, the tombstone keeps the seq.</summary>
    public DateTime? DeletedAt { get; set; }

    public StoredFile? File { get; set; }
}

public enum MessageType { Text, Image, Video, Audio, File, System }

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> message)
    {
        message.HasIndex(m => new { m.ChatId, m.Seq }).IsUnique();
        // Unread counts are arithmetic on gap-free seqs less the exceptions: the reader's own messages and
        // deleted ones. These two indexes find the exceptions without reading the messages in between.
        message.HasIndex(m => new { m.ChatId, m.SenderId, m.Seq });
        message.HasIndex(m => new { m.ChatId, m.Seq }, "IX_Messages_ChatId_Seq_Deleted").HasFilter("\"DeletedAt\" IS NOT NULL");
        // NULLs are distinct in unique indexes on SQLite and PostgreSQL, so messages without a key never clash.
        message.HasIndex(m => new { m.SenderId, m.ClientMessageId }).IsUnique();
        message.Property(m => m.Type).HasConversion<string>().HasMaxLength(16);
        message.Property(m => m.Content).HasMaxLength(4000);
        message.Property(m => m.ClientMessageId).HasMaxLength(64);
        message.HasOne<Chat>().WithMany().HasForeignKey(m => m.ChatId).OnDelete(DeleteBehavior.Cascade);
        message.HasOne(m => m.File).WithMany().HasForeignKey(m => m.FileId).OnDelete(DeleteBehavior.SetNull);
    }
}
