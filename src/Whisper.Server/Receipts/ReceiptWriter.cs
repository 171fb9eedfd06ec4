using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;
using Whisper.Server.Operations;

namespace Whisper.Server.Receipts;

/// <summary>
/// Watermark advances are stored by group commit (<see cref="GroupCommitWriter{TPending}"/>): a read-marking
/// storm in a large group shares commits instead of taking one transaction, and one fsync, per mark.
/// </summary>
/// <remarks>
/// A batch moves member rows in (chat, user) order, so that two nodes' batches on PostgreSQL cannot deadlock
/// on them. Each advance is conditional on the watermark being lower, inside the transaction, so watermarks
/// never go back whatever order concurrent marks arrive in.
/// </remarks>
public sealed class ReceiptWriter(IServiceScopeFactory scopes, WhisperMetrics metrics, ILogger<ReceiptWriter> logger)
    : GroupCommitWriter<ReceiptWriter.Pending>("receipt advances", metrics, logger)
{
    protected override int MaxBatch => 256;

    /// <summary>
    /// Moves the member's delivered watermark, and for <see cref="ReceiptStatus.Read"/> the read one too, up to
    /// <paramref name="seq"/>, recording the move in the receipt log; answers the highest status that moved, null when
    /// the watermark was already there.
    /// </summary>
    public Task<ReceiptStatus?> AdvanceAsync(Guid chatId, Guid userId, long seq, ReceiptStatus status, DateTime at)
    {
        var pending = new Pending(chatId, userId, seq, status, at, new TaskCompletionSource<ReceiptStatus?>(TaskCreationOptions.RunContinuationsAsynchronously));
        Enqueue(pending);
        return pending.Moved.Task;
    }

    protected override async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            foreach (var (advance, moved) in await StoreBatchAsync(batch))
            {
                advance.Moved.TrySetResult(moved ? advance.Status : null);
            }
        }
        catch (Exception exception)
        {
            FailAll(batch, exception);
        }
    }

    protected override void Fail(Pending pending, Exception exception) => pending.Moved.TrySetException(exception);

    /// <summary>
    /// Each advance is one conditional update, answering whether it moved, and one insert into the receipt log that
    /// finds the member row only if that update left the advance's own seq and time there. All of them go to the
    /// database together, in one transaction: on PostgreSQL one round trip, its commit included
    /// (<see cref="StatementBatch"/>). Answers each advance of the batch, in the order stored, with whether it moved.
    /// </summary>
    private async Task<List<(Pending Advance, bool Moved)>> StoreBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        var advances = batch.OrderBy(p => p.ChatId).ThenBy(p => p.UserId).ToList();
        var answers = await db.RunInOneTransactionAsync(
            advances.SelectMany(advance => new[] { MoveStatement(advance), LogStatement(advance) }).ToList());
        // Every advance's update answers first, its log insert second.
        return advances.Select((advance, i) => (advance, answers[2 * i] is not null)).ToList();
    }

    /// <summary>
    /// Moves the advance's watermark up to its seq if it is lower; returns a row only when it moved. A read moves the
    /// delivered watermark in the same update, where that is lower too: read implies delivered, and since the read
    /// watermark is never above the delivered one, a read that does not move leaves the delivered one as it is.
    /// </summary>
    private static FormattableString MoveStatement(Pending advance) => advance.Status == ReceiptStatus.Read
        ? (FormattableString)$"""
            UPDATE "ChatMembers" SET "ReadSeq" = {advance.Seq}, "ReadAt" = {advance.At},
                "DeliveredAt" = CASE WHEN "DeliveredSeq" < {advance.Seq} THEN {advance.At} ELSE "DeliveredAt" END,
                "DeliveredSeq" = CASE WHEN "DeliveredSeq" < {advance.Seq} THEN {advance.Seq} ELSE "DeliveredSeq" END
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "ReadSeq" < {advance.Seq} RETURNING "ReadSeq" AS "Value"
            """
        : $"""
            UPDATE "ChatMembers" SET "DeliveredSeq" = {advance.Seq}, "DeliveredAt" = {advance.At}
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "DeliveredSeq" < {advance.Seq} RETURNING "DeliveredSeq" AS "Value"
            """;

    /// <summary>
    /// Logs the move made by <see cref="MoveStatement"/> just before it, if it was made: the watermark then holds this
    /// advance's seq and time. (Only an advance of the same member to the same seq at the very same tick could match
    /// without moving it, and logs the same moment again.) On PostgreSQL a moved row stays locked by the transaction.
    /// A read is logged once, as a read: it delivered everything it read, so the time a message was first delivered is
    /// that of the first entry of either kind that reached it (<see cref="ReceiptAdvance"/>), and a read-marking storm
    /// inserts one log row per mark rather than two.
    /// </summary>
    private static FormattableString LogStatement(Pending advance) => advance.Status == ReceiptStatus.Read
        ? (FormattableString)$"""
            INSERT INTO "ReceiptAdvances" ("ChatId", "UserId", "Kind", "Seq", "At")
            SELECT "ChatId", "UserId", {ReceiptKind.Read.ToString()}, "ReadSeq", "ReadAt" FROM "ChatMembers"
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "ReadSeq" = {advance.Seq} AND "ReadAt" = {advance.At}
            RETURNING "Id" AS "Value"
            """
        : $"""
            INSERT INTO "ReceiptAdvances" ("ChatId", "UserId", "Kind", "Seq", "At")
            SELECT "ChatId", "UserId", {ReceiptKind.Delivered.ToString()}, "DeliveredSeq", "DeliveredAt" FROM "ChatMembers"
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "DeliveredSeq" = {advance.Seq} AND "DeliveredAt" = {advance.At}
            RETURNING "Id" AS "Value"
            """;

    public sealed record Pending(Guid ChatId, Guid UserId, long Seq, ReceiptStatus Status, DateTime At, TaskCompletionSource<ReceiptStatus?> Moved);
}
