using Whisper.Server.Data;

namespace Whisper.Server.Receipts;

public enum ReceiptStatus { Sent, Delivered, Read }

/// <summary>A member's position in a chat: recipient of messages after <see cref="JoinedSeq"/>, with its watermarks.</summary>
public readonly record struct Watermark(Guid UserId, long JoinedSeq, long DeliveredSeq, long ReadSeq)
{
    public static Watermark Of(ChatMember member) => new(member.UserId, member.JoinedSeq, member.DeliveredSeq, member.ReadSeq);

    public bool IsRecipientOf(long seq, Guid senderId) => UserId != senderId && JoinedSeq < seq;

    public ReceiptStatus StatusOf(long seq) =>
        ReadSeq >= seq ? ReceiptStatus.Read : DeliveredSeq >= seq ? ReceiptStatus.Delivered : ReceiptStatus.Sent;

    /// <summary>The least advanced status over all recipients: a group message is read once everyone has read it.</summary>
    public static ReceiptStatus Aggregate(long seq, Guid senderId, IEnumerable<Watermark> members)
    {
        var least = (ReceiptStatus?)null;
        foreach (var member in members)
        {
            if (member.IsRecipientOf(seq, senderId))
            {
                var status = member.StatusOf(seq);
                least = least is null || status < least ? status : least;
            }
        }

        return least ?? ReceiptStatus.Sent;
    }
}
