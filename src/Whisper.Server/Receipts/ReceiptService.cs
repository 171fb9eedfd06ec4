using Microsoft.EntityFrameworkCore;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;

namespace Whisper.Server.Receipts;

public sealed record RecipientStatusDto(Guid UserId, ReceiptStatus Status, DateTime? DeliveredAt, DateTime? ReadAt);

public sealed record MessageStatusDto(Guid MessageId, ReceiptStatus Status, IReadOnlyList<RecipientStatusDto> Recipients);

public sealed record MarkStatusRequest(ReceiptStatus? Status);

/// <summary>What a watermark advance changed: the caller's new position, for the receiptUpdated event.</summary>
public sealed record ReceiptAdvanced(Guid ChatId, Guid UserId, ReceiptStatus Status, long Seq, DateTime At);

/// <summary>
/// Delivered and read receipts as watermarks per (chat, user): marking a message marks every earlier
/// one, watermarks never go back, and read implies delivered.
/// </summary>
public sealed class ReceiptService(
    WhisperDbContext db, ReceiptWriter writer, ChatMembershipCache memberships, Realtime.ChatNotifier notifier, TimeProvider time)
{
    /// <summary>Advances the caller's watermark in a chat to <paramref name="seq"/>; null when it was already there.</summary>
    public async Task<Result<ReceiptAdvanced?>> AdvanceAsync(Guid callerId, Guid chatId, long seq, ReceiptStatus status, CancellationToken cancellationToken)
    {
        var membership = await db.MembershipAsync(chatId, callerId, cancellationToken);
        if (membership.Failure is { } failure)
        {
            return failure;
        }

        if (status == ReceiptStatus.Sent || !Enum.IsDefined(status))
        {
            return Failure.Invalid("status", "Status must be \"delivered\" or \"read\".");
        }

        var lastSeq = await db.Chats.Where(c => c.Id == chatId).Select(c => c.LastSeq).SingleAsync(cancellationToken);
        if (seq < 1 || seq > lastSeq)
        {
            return Failure.Invalid("seq", $"seq must be between 1 and the chat's last message ({lastSeq}).");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var (deliveredMoved, readMoved) = await writer.AdvanceAsync(chatId, callerId, seq, status, now);
        if (!readMoved && !deliveredMoved)
        {
            return (ReceiptAdvanced?)null;
        }

        var advanced = new ReceiptAdvanced(chatId, callerId, readMoved ? ReceiptStatus.Read : ReceiptStatus.Delivered, seq, now);
        // Read before this advance (or by a concurrent one, which only makes the range wider than needed).
        var before = membership.Value!;
        var from = readMoved ? before.ReadSeq : before.DeliveredSeq;
        notifier.ReceiptUpdated(advanced, await SendersBetweenAsync(chatId, from, seq));
        return advanced;
    }

    /// <summary>
    /// The members who sent the messages an advance covers: the only ones whose messages' status it changes, so
    /// the only ones told (with the reader's own devices). A read-marking storm in a large group costs one event
    /// per mark instead of one per member. Senders who have left are not told.
    /// </summary>
    private async Task<List<Guid>> SendersBetweenAsync(Guid chatId, long afterSeq, long uptoSeq)
    {
        var senders = await db.Messages.Where(m => m.ChatId == chatId && m.Seq > afterSeq && m.Seq <= uptoSeq)
            .Select(m => m.SenderId)
            .Distinct()
            .ToListAsync(CancellationToken.None);
        var members = await memberships.MembersAsync(chatId, CancellationToken.None);
        return senders.Where(members.Contains).ToList();
    }

    /// <summary>Marks one message (and so every earlier one) delivered or read by the caller.</summary>
    public async Task<Result<(MessageStatusDto Status, ReceiptAdvanced? Advanced)>> MarkAsync(
        Guid callerId, Guid messageId, MarkStatusRequest request, CancellationToken cancellationToken)
    {
        var message = await FindVisibleAsync(callerId, messageId, cancellationToken);
        if (message.Failure is { } failure)
        {
            return failure;
        }

        var (chatId, seq, senderId) = message.Value;
        if (senderId == callerId)
        {
            return Failure.BadRequest("Senders do not mark their own messages.");
        }

        if (request.Status is not { } status)
        {
            return Failure.Invalid("status", "Status must be \"delivered\" or \"read\".");
        }

        var advanced = await AdvanceAsync(callerId, chatId, seq, status, cancellationToken);
        if (advanced.Failure is { } invalid)
        {
            return invalid;
        }

        return (await StatusOfAsync(messageId, chatId, seq, senderId, cancellationToken), advanced.Value);
    }

    public async Task<Result<MessageStatusDto>> GetStatusAsync(Guid callerId, Guid messageId, CancellationToken cancellationToken)
    {
        var message = await FindVisibleAsync(callerId, messageId, cancellationToken);
        if (message.Failure is { } failure)
        {
            return failure;
        }

        var (chatId, seq, senderId) = message.Value;
        return await StatusOfAsync(messageId, chatId, seq, senderId, cancellationToken);
    }

    /// <summary>Each recipient's status of one message, with when it was first delivered to and read by them.</summary>
    private async Task<MessageStatusDto> StatusOfAsync(Guid messageId, Guid chatId, long seq, Guid senderId, CancellationToken cancellationToken)
    {
        var recipients = (await db.ChatMembers.AsNoTracking().Where(m => m.ChatId == chatId).ToListAsync(cancellationToken))
            .Select(Watermark.Of)
            .Where(w => w.IsRecipientOf(seq, senderId))
            .ToList();
        var firstTimes = await db.ReceiptAdvances.AsNoTracking()
            .Where(a => a.ChatId == chatId && a.Seq >= seq)
            .GroupBy(a => new { a.UserId, a.Kind })
            .Select(g => new { g.Key.UserId, g.Key.Kind, At = g.Min(a => a.At) })
            .ToListAsync(cancellationToken);
        DateTime? FirstTime(Guid userId, ReceiptKind kind) =>
            firstTimes.Where(t => t.UserId == userId && t.Kind == kind).Select(t => (DateTime?)t.At).FirstOrDefault();

        return new MessageStatusDto(
            messageId,
            Watermark.Aggregate(seq, senderId, recipients),
            recipients.Select(r => new RecipientStatusDto(
                r.UserId,
                r.StatusOf(seq),
                r.DeliveredSeq >= seq ? FirstTime(r.UserId, ReceiptKind.Delivered) : null,
                r.ReadSeq >= seq ? FirstTime(r.UserId, ReceiptKind.Read) : null)).ToList());
    }

    private async Task<Result<(Guid ChatId, long Seq, Guid SenderId)>> FindVisibleAsync(Guid callerId, Guid messageId, CancellationToken cancellationToken)
    {
        var message = await db.Messages.AsNoTracking()
            .Where(m => m.Id == messageId && db.ChatMembers.Any(cm => cm.ChatId == m.ChatId && cm.UserId == callerId))
            .Select(m => new { m.ChatId, m.Seq, m.SenderId })
            .SingleOrDefaultAsync(cancellationToken);
        return message is null ? Failure.NotFound("Message") : (message.ChatId, message.Seq, message.SenderId);
    }
}
