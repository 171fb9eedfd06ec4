using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;

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
public sealed class ReceiptWriter(IServiceScopeFactory scopes, ILogger<ReceiptWriter> logger)
    : GroupCommitWriter<ReceiptWriter.Pending>("receipt advances", logger)
{
    protected override int MaxBatch => 256;

    /// <summary>
    /// Moves the member's delivered watermark, and for <see cref="ReceiptStatus.Read"/> the read one too, up to
    /// <paramref name="seq"/>, recording each move in the receipt log; answers which of them moved.
    /// </summary>
    public Task<WatermarksMoved> AdvanceAsync(Guid chatId, Guid userId, long seq, ReceiptStatus status, DateTime at)
    {
        var pending = new Pending(chatId, userId, seq, status, at, new TaskCompletionSource<WatermarksMoved>(TaskCreationOptions.RunContinuationsAsynchronously));
        Enqueue(pending);
        return pending.Moved.Task;
    }

    protected override async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            var moved = await StoreBatchAsync(batch);
            foreach (var pending in batch)
            {
                pending.Moved.TrySetResult(moved[pending]);
            }
        }
        catch (Exception exception)
        {
            FailAll(batch, exception);
        }
    }

    protected override void Fail(Pending pending, Exception exception) => pending.Moved.TrySetException(exception);

    /// <summary>
    /// Each watermark to move is one conditional update, answering whether it moved, and one insert into the receipt
    /// log that finds the member row only if that update left the advance's own seq and time on it. All of them go to
    /// the database together, in one transaction: on PostgreSQL one round trip, its commit included
    /// (<see cref="StatementBatch"/>).
    /// </summary>
    private async Task<Dictionary<Pending, WatermarksMoved>> StoreBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        var advances = batch.OrderBy(p => p.ChatId).ThenBy(p => p.UserId).ToList();
        var moves = advances
            .SelectMany(advance => advance.Status == ReceiptStatus.Read
                ? new[] { (Advance: advance, Kind: ReceiptKind.Delivered), (Advance: advance, Kind: ReceiptKind.Read) }
                : [(Advance: advance, Kind: ReceiptKind.Delivered)])
            .ToList();
        var answers = await db.RunInOneTransactionAsync(
            moves.SelectMany(move => new[] { MoveStatement(move.Advance, move.Kind), LogStatement(move.Advance, move.Kind) }).ToList());
        // Every move's update answers first, its log insert second. A pending write is a record holding its
        // own completion source, so no two compare equal.
        var made = moves.Where((_, i) => answers[2 * i] is not null).ToHashSet();
        return advances.ToDictionary(
            advance => advance,
            advance => new WatermarksMoved(made.Contains((advance, ReceiptKind.Delivered)), made.Contains((advance, ReceiptKind.Read))));
    }

    /// <summary>Moves one watermark up to the advance's seq if it is lower; returns a row only when it moved.</summary>
    private static FormattableString MoveStatement(Pending advance, ReceiptKind kind) => kind == ReceiptKind.Delivered
        ? (FormattableString)$"""
            UPDATE "ChatMembers" SET "DeliveredSeq" = {advance.Seq}, "DeliveredAt" = {advance.At}
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "DeliveredSeq" < {advance.Seq} RETURNING "DeliveredSeq" AS "Value"
            """
        : $"""
            UPDATE "ChatMembers" SET "ReadSeq" = {advance.Seq}, "ReadAt" = {advance.At}
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "ReadSeq" < {advance.Seq} RETURNING "ReadSeq" AS "Value"
            """;

    /// <summary>
    /// Logs the move made by <see cref="MoveStatement"/> just before it, if it was made: the watermark then holds this
    /// advance's seq and time. (Only an advance of the same member to the same seq at the very same tick could match
    /// without moving it, and logs the same moment again.) On PostgreSQL a moved row stays locked by the transaction.
    /// </summary>
    private static FormattableString LogStatement(Pending advance, ReceiptKind kind) => kind == ReceiptKind.Delivered
        ? (FormattableString)$"""
            INSERT INTO "ReceiptAdvances" ("ChatId", "UserId", "Kind", "Seq", "At")
            SELECT "ChatId", "UserId", {kind.ToString()}, "DeliveredSeq", "DeliveredAt" FROM "ChatMembers"
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "DeliveredSeq" = {advance.Seq} AND "DeliveredAt" = {advance.At}
            RETURNING "Id" AS "Value"
            """
        : $"""
            INSERT INTO "ReceiptAdvances" ("ChatId", "UserId", "Kind", "Seq", "At")
            SELECT "ChatId", "UserId", {kind.ToString()}, "ReadSeq", "ReadAt" FROM "ChatMembers"
            WHERE "ChatId" = {advance.ChatId} AND "UserId" = {advance.UserId} AND "ReadSeq" = {advance.Seq} AND "ReadAt" = {advance.At}
            RETURNING "Id" AS "Value"
            """;

    public sealed record Pending(Guid ChatId, Guid UserId, long Seq, ReceiptStatus Status, DateTime At, TaskCompletionSource<WatermarksMoved> Moved);
}

/// <summary>Which of a member's watermarks an advance moved.</summary>
public readonly record struct WatermarksMoved(bool Delivered, bool Read);
