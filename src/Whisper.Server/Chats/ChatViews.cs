using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Users;

namespace Whisper.Server.Chats;

/// <summary>
/// Builds <see cref="ChatDto"/>s, which differ by viewer (name of a direct chat, role, unread count),
/// with a fixed number of statements however many chats or viewers.
/// </summary>
/// <remarks>
/// The chat list is the most frequent request after history pages, so it reads as they do
/// (<see cref="MessagePages"/>): plain SQL on one connection open, the same on SQLite and PostgreSQL, with
/// parameters bound through EF's type mapping. Through EF each of its four queries opened and closed the
/// connection and materialised its rows through the query pipeline (docs/BENCHMARKS.md, seventh round).
/// </remarks>
public sealed class ChatViews(WhisperDbContext db)
{
    private const string ChatsOfViewer = """
        SELECT c."Id", c."Type", c."Name", c."AvatarFileId", c."DirectKey", c."CreatedById", c."CreatedAt", c."UpdatedAt", c."LastSeq"
        FROM "ChatMembers" AS me
        JOIN "Chats" AS c ON c."Id" = me."ChatId"
        WHERE me."UserId" = @viewer
        """;

    private const string UpdatedBefore = "\nAND c.\"UpdatedAt\" < @before";

    private const string NewestFirst = "\nORDER BY c.\"UpdatedAt\" DESC, c.\"Id\" DESC\nLIMIT @take";

    private const string MembersOfChats = """
        SELECT m."ChatId", m."UserId", m."Role", m."JoinedAt", m."JoinedSeq", m."DeliveredSeq", m."ReadSeq",
            u."UserName", u."DisplayName", u."AvatarFileId"
        FROM "ChatMembers" AS m
        JOIN "Users" AS u ON u."Id" = m."UserId"
        WHERE m."ChatId" IN ({0})
        ORDER BY m."JoinedAt", m."UserId"
        """;

    private const string LastMessagesOfChats = "SELECT " + MessagePages.MessageColumns + ", c.\"Id\"\n" + """
        FROM "Chats" AS c
        JOIN "Messages" AS m ON m."ChatId" = c."Id" AND m."Seq" = c."LastSeq"
        LEFT JOIN "Files" AS f ON f."Id" = m."FileId"
        WHERE c."Id" IN ({0})
        """;

    /// <summary>
    /// Seqs are gap-free, so the messages after the read watermark number LastSeq - ReadSeq; of those, the reader's
    /// own and the deleted ones are not unread. Both are counted by index, so the cost does not grow with the number
    /// of unread messages.
    /// </summary>
    private const string UnreadInChats = """
        SELECT r."ChatId", r."UserId", c."LastSeq" - r."ReadSeq"
            - (SELECT COUNT(*) FROM "Messages" AS m
               WHERE m."ChatId" = r."ChatId" AND m."SenderId" = r."UserId" AND m."Seq" > r."ReadSeq")
            - (SELECT COUNT(*) FROM "Messages" AS m
               WHERE m."ChatId" = r."ChatId" AND m."DeletedAt" IS NOT NULL AND m."Seq" > r."ReadSeq" AND m."SenderId" <> r."UserId")
        FROM "ChatMembers" AS r
        JOIN "Chats" AS c ON c."Id" = r."ChatId"
        WHERE r."ChatId" IN ({0})
        """;

    private const string OfViewer = "\nAND r.\"UserId\" = @viewer";

    public async Task<ChatDto> ForAsync(Guid viewerId, Chat chat, CancellationToken cancellationToken) =>
        (await ForAsync(viewerId, [chat], cancellationToken))[0];

    public async Task<IReadOnlyList<ChatDto>> ForAsync(Guid viewerId, IReadOnlyList<Chat> chats, CancellationToken cancellationToken)
    {
        var data = await LoadAsync(chats.Select(c => c.Id).ToList(), viewerId, cancellationToken);
        return chats.Select(chat => Compose(chat, viewerId, data)).ToList();
    }

    /// <summary>The chat as each of its members sees it, for events sent to all of them.</summary>
    public async Task<IReadOnlyDictionary<Guid, ChatDto>> ForMembersAsync(Chat chat, CancellationToken cancellationToken)
    {
        var data = await LoadAsync([chat.Id], viewerId: null, cancellationToken);
        return data.Members[chat.Id].ToDictionary(m => m.UserId, m => Compose(chat, m.UserId, data));
    }

    /// <summary>
    /// A page of the viewer's chats, the most recent activity first: those last active before <paramref name="before"/>
    /// (UTC), if given.
    /// </summary>
    public async Task<Page<ChatDto>> PageAsync(Guid viewerId, int take, DateTime? before, CancellationToken cancellationToken)
    {
        // Opened once for all the statements: the nested opens and closes in LoadAsync only count.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            List<Chat> chats;
            await using (var command = db.CreatePlainCommand(ChatsOfViewer + (before is null ? "" : UpdatedBefore) + NewestFirst))
            {
                command.AddStored(db, "@viewer", viewerId);
                command.AddStored(db, "@take", take + 1);
                if (before is { } cursor)
                {
                    command.AddStored(db, "@before", cursor);
                }

                chats = await command.ReadRowsAsync(ReadChat, cancellationToken, take + 1);
            }

            var page = Page<Chat>.FromOverfetch(chats, take);
            return new Page<ChatDto>(await ForAsync(viewerId, page.Items, cancellationToken), page.HasMore);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private sealed record MemberRow(Guid ChatId, Guid UserId, ChatRole Role, DateTime JoinedAt, Watermark Watermark,
        string UserName, string DisplayName, Guid? AvatarFileId);

    private sealed record Loaded(ILookup<Guid, MemberRow> Members, Dictionary<Guid, Message> LastMessages, Dictionary<(Guid ChatId, Guid UserId), int> Unread);

    /// <param name="viewerId">Whose unread counts to count; null for every member's.</param>
    private async Task<Loaded> LoadAsync(List<Guid> chatIds, Guid? viewerId, CancellationToken cancellationToken)
    {
        if (chatIds.Count == 0)
        {
            return new Loaded(Array.Empty<MemberRow>().ToLookup(m => m.ChatId), [], []);
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            List<MemberRow> members;
            await using (var command = ForChats(MembersOfChats, chatIds))
            {
                members = await command.ReadRowsAsync(ReadMember, cancellationToken);
            }

            List<Message> lastMessages;
            await using (var command = ForChats(LastMessagesOfChats, chatIds))
            {
                lastMessages = await command.ReadRowsAsync(reader => MessagePages.ReadMessage(reader, chatId: reader.GetId(19)), cancellationToken);
            }

            List<((Guid ChatId, Guid UserId) Reader, int Count)> unread;
            await using (var command = ForChats(UnreadInChats + (viewerId is null ? "" : OfViewer), chatIds))
            {
                if (viewerId is { } viewer)
                {
                    command.AddStored(db, "@viewer", viewer);
                }

                unread = await command.ReadRowsAsync(reader => ((reader.GetId(0), reader.GetId(1)), checked((int)reader.GetInt64(2))), cancellationToken);
            }

            return new Loaded(
                members.ToLookup(m => m.ChatId), lastMessages.ToDictionary(m => m.ChatId), unread.ToDictionary(u => u.Reader, u => u.Count));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The statement with its <c>IN ({0})</c> bound to the chats' ids.</summary>
    private DbCommand ForChats(string sql, List<Guid> chatIds)
    {
        var command = db.CreatePlainCommand("");
        command.CommandText = string.Format(sql, command.AddStoredList(db, "chat", chatIds));
        return command;
    }

    private static MemberRow ReadMember(DbDataReader reader)
    {
        var userId = reader.GetId(1);
        return new MemberRow(
            reader.GetId(0), userId, Enum.Parse<ChatRole>(reader.GetString(2)), reader.GetUtc(3),
            new Watermark(userId, reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6)),
            reader.GetString(7), reader.GetString(8), reader.GetIdOrNull(9));
    }

    private static Chat ReadChat(DbDataReader reader) => new()
    {
        Id = reader.GetId(0),
        Type = Enum.Parse<ChatType>(reader.GetString(1)),
        Name = reader.GetStringOrNull(2),
        AvatarFileId = reader.GetIdOrNull(3),
        DirectKey = reader.GetStringOrNull(4),
        CreatedById = reader.GetId(5),
        CreatedAt = reader.GetUtc(6),
        UpdatedAt = reader.GetUtc(7),
        LastSeq = reader.GetInt64(8),
    };

    private static ChatDto Compose(Chat chat, Guid viewerId, Loaded data)
    {
        var members = data.Members[chat.Id].ToList();
        var other = chat.Type == ChatType.Direct ? members.FirstOrDefault(m => m.UserId != viewerId) : null;
        return new ChatDto(
            chat.Id,
            chat.Type,
            other?.DisplayName ?? chat.Name,
            Avatars.UrlOf(other is null ? chat.AvatarFileId : other.AvatarFileId),
            chat.CreatedAt,
            chat.UpdatedAt,
            chat.LastSeq,
            data.Unread.GetValueOrDefault((chat.Id, viewerId)),
            data.LastMessages.TryGetValue(chat.Id, out var last) ? MessageDto.From(last, members.Select(m => m.Watermark)) : null,
            members.FirstOrDefault(m => m.UserId == viewerId)?.Role ?? ChatRole.Member,
            members.Select(m => new ChatMemberDto(m.UserId, m.UserName, m.DisplayName, Avatars.UrlOf(m.AvatarFileId), m.Role, m.JoinedAt)).ToList());
    }
}
