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
        var statements = new List<FormattableString>();
        foreach (var (chatId, userId, seq, status, at, _) in advances)
        {
            statements.Add($"""
                UPDATE "ChatMembers" SET "DeliveredSeq" = {seq}, "DeliveredAt" = {at}
                WHERE "ChatId" = {chatId} AND "UserId" = {userId} AND "DeliveredSeq" < {seq} RETURNING "DeliveredSeq" AS "Value"
                """);
            if (status == ReceiptStatus.Read)
            {
                statements.Add($"""
                    UPDATE "ChatMembers" SET "ReadSeq" = {seq}, "ReadAt" = {at}
                    WHERE "ChatId" = {chatId} AND "UserId" = {userId} AND "ReadSeq" < {seq} RETURNING "ReadSeq" AS "Value"
                    """);
            }
        }

        var answers = new Queue<long?>(await db.FirstValuesAsync(statements));
        var moved = new Dictionary<Pending, WatermarksMoved>(ReferenceEqualityComparer.Instance);
        foreach (var advance in advances)
        {
            var (chatId, userId, seq, at) = (advance.ChatId, advance.UserId, advance.Seq, advance.At);
            var delivered = answers.Dequeue() is not null;
            var read = advance.Status == ReceiptStatus.Read && answers.Dequeue() is not null;
            if (delivered)
            {
                db.ReceiptAdvances.Add(new ReceiptAdvance { ChatId = chatId, UserId = userId, Kind = ReceiptKind.Delivered, Seq = seq, At = at });
            }

            if (read)
            {
                db.ReceiptAdvances.Add(new ReceiptAdvance { ChatId = chatId, UserId = userId, Kind = ReceiptKind.Read, Seq = seq, At = at });
            }

            moved[advance] = new WatermarksMoved(delivered, read);
        }

        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        return moved;
    }

    public sealed record Pending(Guid ChatId, Guid UserId, long Seq, ReceiptStatus Status, DateTime At, TaskCompletionSource<WatermarksMoved> Moved);
}

/// <summary>Which of a member's watermarks an advance moved.</summary>
public readonly record struct WatermarksMoved(bool Delivered, bool Read);
