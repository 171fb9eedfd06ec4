using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

/// <summary>
/// One forward move of a member's delivered or read watermark. The current watermark lives on
/// <see cref="ChatMember"/>; this log answers when a given message was delivered to or read by each
/// recipient: the time of the first advance whose seq reached it.
/// </summary>
/// <remarks>
/// A read that also moves the delivered watermark is logged once, as a read (read implies delivered), so a
/// message was first delivered at the first entry of either kind that reached it. Logs written before this rule
/// hold both entries, with the same seq and time, and answer the same.
/// </remarks>
public sealed class ReceiptAdvance
{
    public long Id { get; set; }

    public Guid ChatId { get; set; }

    public Guid UserId { get; set; }

    public ReceiptKind Kind { get; set; }

    public long Seq { get; set; }

    public DateTime At { get; set; }
}

public enum ReceiptKind { Delivered, Read }

internal sealed class ReceiptAdvanceConfiguration : IEntityTypeConfiguration<ReceiptAdvance>
{
    public void Configure(EntityTypeBuilder<ReceiptAdvance> advance)
    {
        advance.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
        advance.HasIndex(a => new { a.ChatId, a.UserId, a.Kind, a.Seq });
        advance.HasOne<Chat>().WithMany().HasForeignKey(a => a.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}
