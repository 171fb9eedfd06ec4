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

    private async Task<Dictionary<Pending, WatermarksMoved>> StoreBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        // Plain SQL in one round trip: one statement per watermark to move, each answering whether it moved.
        var advances = batch.OrderBy(p => p.ChatId).ThenBy(p => p.UserId).ToList();
        var moves = advances
            .SelectMany(advance => advance.Status == ReceiptStatus.Read
                ? new[] { (Advance: advance, Kind: ReceiptKind.Delivered), (Advance: advance, Kind: ReceiptKind.Read) }
                : [(Advance: advance, Kind: ReceiptKind.Delivered)])
            .ToList();
        var answers = await db.FirstValuesAsync(moves.Select(move => MoveStatement(move.Advance, move.Kind)).ToList());
        // A pending write is a record holding its own completion source, so no two compare equal.
        var made = moves.Zip(answers).Where(pair => pair.Second is not null).Select(pair => pair.First).ToHashSet();
        await db.ExecuteAsync(moves.Where(made.Contains).Select(move => (FormattableString)$"""
            INSERT INTO "ReceiptAdvances" ("ChatId", "UserId", "Kind", "Seq", "At")
            VALUES ({move.Advance.ChatId}, {move.Advance.UserId}, {move.Kind.ToString()}, {move.Advance.Seq}, {move.Advance.At})
            """).ToList());
        var moved = advances.ToDictionary(
            advance => advance,
            advance => new WatermarksMoved(made.Contains((advance, ReceiptKind.Delivered)), made.Contains((advance, ReceiptKind.Read))));
        await transaction.CommitAsync();
        return moved;
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

    public sealed record Pending(Guid ChatId, Guid UserId, long Seq, ReceiptStatus Status, DateTime At, TaskCompletionSource<WatermarksMoved> Moved);
}

/// <summary>Which of a member's watermarks an advance moved.</summary>
public readonly record struct WatermarksMoved(bool Delivered, bool Read);
