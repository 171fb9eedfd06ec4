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
        // One read before the write, not three (the membership, the chat's last seq, then the senders): in a
        // read-marking storm each round trip costs CPU in the server and in the database.
        var rows = await MarkContextAsync(chatId, callerId, seq, status == ReceiptStatus.Read, cancellationToken);
        if (rows.Count == 0)
        {
            return Failure.NotFound("Chat");
        }

        if (status == ReceiptStatus.Sent || !Enum.IsDefined(status))
        {
            return Failure.Invalid("status", "Status must be \"delivered\" or \"read\".");
        }

        if (seq < 1 || seq > rows[0].LastSeq)
        {
            return Failure.Invalid("seq", $"seq must be between 1 and the chat's last message ({rows[0].LastSeq}).");
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (await writer.AdvanceAsync(chatId, callerId, seq, status, now) is not { } moved)
        {
            return (ReceiptAdvanced?)null;
        }

        var advanced = new ReceiptAdvanced(chatId, callerId, moved, seq, now);
        // Senders who have left are not told.
        var members = await memberships.MembersAsync(chatId, CancellationToken.None);
        notifier.ReceiptUpdated(advanced, rows.Select(row => row.SenderId).OfType<Guid>().Where(members.Contains).ToList());
        return advanced;
    }

    /// <summary>
    /// What a mark needs to know before its write, read together: the chat's last seq, and who sent the messages
    /// above the caller's watermark of the marked kind up to the marked seq. Those senders are the only members
    /// whose messages' status the advance may change, so the only ones told (with the reader's own devices): a
    /// read-marking storm in a large group costs one event per mark instead of one per member.
    /// </summary>
    /// <remarks>
    /// One row per sender (one with no sender when the range holds no message), none when the caller is not a
    /// member. Should a concurrent mark move the watermark part of the way first, the senders, read from the
    /// watermark up before either write, are a wider range than needed, never a narrower one.
    /// Plain SQL: the range's lower bound is the member's own watermark, a join that LINQ can only express as an
    /// APPLY, which SQLite lacks. A plain command, as <see cref="Messages.MessagePages"/> reads: through EF's
    /// <c>SqlQuery</c>, a read-receipt storm's profile showed marks still compiling delegates long after warm-up
    /// (docs/BENCHMARKS.md, eighth round).
    /// </remarks>
    private async Task<List<MarkContextRow>> MarkContextAsync(Guid chatId, Guid userId, long seq, bool read, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.CreatePlainCommand(MarkContext);
            command.AddStored(db, "@chat", chatId);
            command.AddStored(db, "@user", userId);
            command.AddStored(db, "@seq", seq);
            command.AddStored(db, "@read", read);
            return await command.ReadRowsAsync(reader => new MarkContextRow(reader.GetInt64(0), reader.GetIdOrNull(1)), cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private const string MarkContext = """
        SELECT DISTINCT c."LastSeq", m."SenderId"
        FROM "ChatMembers" AS cm
        JOIN "Chats" AS c ON c."Id" = cm."ChatId"
        LEFT JOIN "Messages" AS m ON m."ChatId" = cm."ChatId" AND m."Seq" <= @seq
            AND m."Seq" > CASE WHEN @read THEN cm."ReadSeq" ELSE cm."DeliveredSeq" END
        WHERE cm."ChatId" = @chat AND cm."UserId" = @user
        """;

    private sealed record MarkContextRow(long LastSeq, Guid? SenderId);

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
        // A read is logged as a read alone, and it delivered what it read: a message was first delivered at the
        // first entry of either kind that reached it.
        DateTime? FirstTime(Guid userId, ReceiptKind kind) =>
            firstTimes.Where(t => t.UserId == userId && (t.Kind == kind || t.Kind == ReceiptKind.Read)).Min(t => (DateTime?)t.At);

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
