using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;
using Whisper.Server.Receipts;

namespace Whisper.Server.Messages;

/// <summary>
/// Reads a page of a chat's history, with its files and the members' watermarks the statuses come from:
/// the most frequent read a chat server answers. The watermarks are read here for every message DTO.
/// </summary>
/// <remarks>
/// Plain ADO.NET on the context's connection, opened once for both statements. Through EF, even with compiled
/// queries, the two statements cost about twice as much: a connection open and close for each, the command built
/// and the rows materialised through the query pipeline (docs/BENCHMARKS.md, fourth round). The SQL is the same
/// on SQLite and PostgreSQL; parameters take EF's type mapping, so ids are bound as each provider stores them.
/// </remarks>
public sealed class MessagePages(WhisperDbContext db)
{
    /// <summary>A message's columns (<c>m</c>) and its file's (<c>f</c>), as <see cref="ReadMessage"/> reads them (ordinals 0 to 18).</summary>
    internal const string MessageColumns = """
        m."Id", m."Seq", m."SenderId", m."Type", m."Content", m."FileId", m."ReplyToId", m."ClientMessageId",
            m."CreatedAt", m."EditedAt", m."DeletedAt",
            f."UploaderId", f."Name", f."ContentType", f."Size", f."StorageKey", f."Sha256", f."CreatedAt", f."DeletedAt"
        """;

    private const string Columns = "SELECT " + MessageColumns + "\n" + """
        FROM "Messages" AS m
        LEFT JOIN "Files" AS f ON f."Id" = m."FileId"
        WHERE m."ChatId" = @chat AND m."Seq" > @after AND m."Seq" < @before
        """;

    private const string OldestFirst = Columns + "\nORDER BY m.\"Seq\"\nLIMIT @take";
    private const string NewestFirst = Columns + "\nORDER BY m.\"Seq\" DESC\nLIMIT @take";

    private const string Watermarks = """
        SELECT "UserId", "JoinedSeq", "DeliveredSeq", "ReadSeq" FROM "ChatMembers" WHERE "ChatId" = @chat
        """;

    /// <summary>
    /// Up to <paramref name="take"/> messages with <paramref name="after"/> &lt; seq &lt; <paramref name="before"/>,
    /// the lowest seqs first, or the highest first when <paramref name="newestFirst"/>; and the chat's members'
    /// watermarks, unless no message came.
    /// </summary>
    public async Task<(List<Message> Messages, List<Watermark> Members)> ReadAsync(
        Guid chatId, long after, long before, int take, bool newestFirst, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            List<Message> messages;
            await using (var command = Command(newestFirst ? NewestFirst : OldestFirst, chatId))
            {
                command.AddStored(db, "@after", after);
                command.AddStored(db, "@before", before);
                command.AddStored(db, "@take", take);
                messages = await command.ReadRowsAsync(reader => ReadMessage(reader, chatId), cancellationToken, take);
            }

            return (messages, messages.Count == 0 ? [] : await WatermarksAsync(chatId, cancellationToken));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The chat's members' watermarks, which every message's status is computed from.</summary>
    public async Task<List<Watermark>> WatermarksAsync(Guid chatId, CancellationToken cancellationToken)
    {
        // Nested in ReadAsync's open, this open and close only count: the connection stays open for both.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = Command(Watermarks, chatId);
            return await command.ReadRowsAsync(
                reader => new Watermark(reader.GetId(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)), cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private DbCommand Command(string sql, Guid chatId)
    {
        var command = db.CreatePlainCommand(sql);
        command.AddStored(db, "@chat", chatId);
        return command;
    }

    /// <summary>The message, with its file, of the reader's row of <see cref="MessageColumns"/>.</summary>
    internal static Message ReadMessage(DbDataReader reader, Guid chatId)
    {
        var message = new Message
        {
            Id = reader.GetId(0),
            ChatId = chatId,
            Seq = reader.GetInt64(1),
            SenderId = reader.GetId(2),
            Type = Enum.Parse<MessageType>(reader.GetString(3)),
            Content = reader.GetStringOrNull(4),
            FileId = reader.GetIdOrNull(5),
            ReplyToId = reader.GetIdOrNull(6),
            ClientMessageId = reader.GetStringOrNull(7),
            CreatedAt = reader.GetUtc(8),
            EditedAt = reader.GetUtcOrNull(9),
            DeletedAt = reader.GetUtcOrNull(10),
        };
        if (message.FileId is { } fileId && !reader.IsDBNull(11))
        {
            message.File = new StoredFile
            {
                Id = fileId,
                ChatId = chatId,
                UploaderId = reader.GetId(11),
                Name = reader.GetString(12),
                ContentType = reader.GetString(13),
                Size = reader.GetInt64(14),
                StorageKey = reader.GetString(15),
                Sha256 = reader.GetString(16),
                CreatedAt = reader.GetUtc(17),
                DeletedAt = reader.GetUtcOrNull(18),
            };
        }

        return message;
    }
}
