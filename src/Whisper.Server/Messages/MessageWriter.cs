using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;
using Whisper.Server.Operations;

namespace Whisper.Server.Messages;

/// <summary>
/// New messages are stored by group commit (<see cref="GroupCommitWriter{TPending}"/>): concurrent sends share
/// one transaction and one fsync.
/// </summary>
/// <remarks>
/// Each chat's <c>seq</c> is still assigned inside the storing transaction by incrementing the chat
/// row, so several nodes writing to one PostgreSQL keep gap-free, twin-free sequences; chats are
/// updated in id order so that two nodes' batches cannot deadlock.
/// </remarks>
public sealed class MessageWriter(IServiceScopeFactory scopes, SearchIndexer searchIndexer, WhisperMetrics metrics, ILogger<MessageWriter> logger)
    : GroupCommitWriter<MessageWriter.Pending>("messages", metrics, logger)
{
    protected override int MaxBatch => 256;

    /// <summary>
    /// Stores the message with its chat's next <c>seq</c> (set on the message). Answers false, storing
    /// nothing, when the sender already used the message's <c>clientMessageId</c>.
    /// </summary>
    public Task<bool> StoreAsync(Message message)
    {
        var pending = new Pending(message, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        Enqueue(pending);
        return pending.Stored.Task;
    }

    protected override async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            await StoreBatchAsync(batch);
            searchIndexer.MessagesStored();
            batch.ForEach(p => p.Stored.TrySetResult(true));
        }
        catch (DbException exception) when (exception.IsConstraintViolation() && batch.Count > 1)
        {
            // A message of the batch was refused, most often for a clientMessageId stored before (a retry).
            // Those are answered as repeats and the others stored; if none was (a retry racing its original
            // in this very batch, say), storing one by one keeps every message but the refused one.
            var used = await UsedKeysAsync(batch);
            used.ForEach(p => p.Stored.TrySetResult(false));
            if (used.Count == 0)
            {
                foreach (var pending in batch)
                {
                    await WriteAsync([pending]);
                }
            }
            else if (batch.Except(used).ToList() is { Count: > 0 } rest)
            {
                await WriteAsync(rest);
            }
        }
        catch (DbException exception) when (exception.IsUniqueViolation())
        {
            batch[0].Stored.TrySetResult(false);
        }
        catch (Exception exception)
        {
            FailAll(batch, exception);
        }
    }

    /// <summary>The messages of the batch whose sender already stored a message with the same clientMessageId.</summary>
    private async Task<List<Pending>> UsedKeysAsync(List<Pending> batch)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
            var used = new List<Pending>();
            foreach (var pending in batch.Where(p => p.Message.ClientMessageId is not null))
            {
                var (senderId, key) = (pending.Message.SenderId, pending.Message.ClientMessageId);
                if (await db.Messages.AnyAsync(m => m.SenderId == senderId && m.ClientMessageId == key))
                {
                    used.Add(pending);
                }
            }

            return used;
        }
        catch (Exception exception) when (Operations.UnavailableDependency.Caused(exception))
        {
            // Storing one by one will answer each sender with the same unavailability.
            return [];
        }
    }

    /// <summary>
    /// Claims each chat's next seqs and inserts the messages, all in one transaction. The inserts take their seqs
    /// from the chat row the claim just moved (and locked, on PostgreSQL), so claims and inserts go to the database
    /// together: on PostgreSQL one round trip, its commit included (<see cref="StatementBatch"/>).
    /// </summary>
    private async Task StoreBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        // Chats are claimed in id order, so that two nodes' batches cannot deadlock on their rows.
        var chats = batch.GroupBy(p => p.Message.ChatId).OrderBy(chat => chat.Key).ToList();
        var claims = chats.Select(chat => Claim(chat.Key, chat.Count(), chat.Max(p => p.Message.CreatedAt)));
        var inserts = chats.SelectMany(chat => chat.Select((pending, i) => Insert(pending.Message, later: chat.Count() - 1 - i)));
        var values = await db.RunInOneTransactionAsync(claims.Concat(inserts).ToList());
        // After the claims, each insert answers its message's seq, in the order of the chats.
        foreach (var (pending, seq) in chats.SelectMany(chat => chat).Zip(values.Skip(chats.Count)))
        {
            pending.Message.Seq = seq ?? throw new InvalidOperationException($"Message {pending.Message.Id} got no seq.");
        }
    }

    /// <summary>
    /// Takes the chat's next <paramref name="count"/> seqs, answering its new last seq, and locks its row (PostgreSQL)
    /// for the rest of the transaction: no other writer takes these seqs.
    /// </summary>
    private static FormattableString Claim(Guid chatId, int count, DateTime updatedAt) => $"""
        UPDATE "Chats" SET "LastSeq" = "LastSeq" + {count}, "UpdatedAt" = {updatedAt}
        WHERE "Id" = {chatId} RETURNING "LastSeq" AS "Value"
        """;

    /// <summary>
    /// The message with the seq <paramref name="later"/> below its chat's last, claimed in the same transaction; answers
    /// the seq. (A chat deleted meanwhile has no last seq, and the message's missing seq is refused.)
    /// </summary>
    private static FormattableString Insert(Message message, int later) => $"""
        INSERT INTO "Messages" ("Id", "ChatId", "Seq", "SenderId", "Type", "Content", "FileId", "ReplyToId", "ClientMessageId",
            "CreatedAt", "EditedAt", "DeletedAt")
        VALUES ({message.Id}, {message.ChatId}, (SELECT "LastSeq" FROM "Chats" WHERE "Id" = {message.ChatId}) - {later}, {message.SenderId},
            {message.Type.ToString()}, {message.Content}, {message.FileId}, {message.ReplyToId}, {message.ClientMessageId},
            {message.CreatedAt}, {message.EditedAt}, {message.DeletedAt})
        RETURNING "Seq" AS "Value"
        """;

    protected override void Fail(Pending pending, Exception exception) => pending.Stored.TrySetException(exception);

    public sealed record Pending(Message Message, TaskCompletionSource<bool> Stored);
}
