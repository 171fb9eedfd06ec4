using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Users;

namespace Whisper.Server.Chats;

/// <summary>
/// Builds <see cref="ChatDto"/>s, which differ by viewer (name of a direct chat, role, unread count),
/// with a fixed number of queries however many chats or viewers.
/// </summary>
public sealed class ChatViews(WhisperDbContext db)
{
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
        return data.Members[chat.Id].ToDictionary(m => m.Member.UserId, m => Compose(chat, m.Member.UserId, data));
    }

    private sealed record MemberRow(ChatMember Member, string UserName, string DisplayName, Guid? AvatarFileId);

    private sealed record Loaded(ILookup<Guid, MemberRow> Members, Dictionary<Guid, Message> LastMessages, Dictionary<(Guid ChatId, Guid UserId), int> Unread);

    /// <param name="viewerId">Whose unread counts to count; null for every member's.</param>
    private async Task<Loaded> LoadAsync(List<Guid> chatIds, Guid? viewerId, CancellationToken cancellationToken)
    {
        var members = await MembersOf(db, chatIds).ToListAsync(cancellationToken);
        var lastMessages = (await LastMessagesOf(db, chatIds).ToListAsync(cancellationToken)).ToDictionary(m => m.ChatId);
        var unread = (await UnreadOf(db, chatIds, viewerId).ToListAsync(cancellationToken)).ToDictionary(x => (x.ChatId, x.UserId), x => (int)x.Count);
        return new Loaded(members.ToLookup(m => m.Member.ChatId), lastMessages, unread);
    }

    // The chat list is the most frequent request after history pages, so its queries are compiled once rather
    // than translated per call (the translation cache still walked and partly compiled each query's tree).

    private static readonly Func<WhisperDbContext, List<Guid>, IAsyncEnumerable<MemberRow>> MembersOf =
        EF.CompileAsyncQuery((WhisperDbContext db, List<Guid> chatIds) =>
            db.ChatMembers.AsNoTracking()
                .Where(m => chatIds.Contains(m.ChatId))
                .OrderBy(m => m.JoinedAt)
                .Select(m => new MemberRow(m, m.User!.UserName, m.User.DisplayName, m.User.AvatarFileId)));

    private static readonly Func<WhisperDbContext, List<Guid>, IAsyncEnumerable<Message>> LastMessagesOf =
        EF.CompileAsyncQuery((WhisperDbContext db, List<Guid> chatIds) =>
            (from chat in db.Chats
             where chatIds.Contains(chat.Id)
             join message in db.Messages on new { ChatId = chat.Id, Seq = chat.LastSeq } equals new { message.ChatId, message.Seq }
             select message)
            .AsNoTracking()
            .Select(MessageQueries.WithFile));

    /// <summary>
    /// Seqs are gap-free, so the messages after the read watermark number LastSeq - ReadSeq; of those, the reader's
    /// own and the deleted ones are not unread. Both are found by index, so the cost does not grow with the number
    /// of unread messages.
    /// </summary>
    private static readonly Func<WhisperDbContext, List<Guid>, Guid?, IAsyncEnumerable<UnreadRow>> UnreadOf =
        EF.CompileAsyncQuery((WhisperDbContext db, List<Guid> chatIds, Guid? viewerId) =>
            from reader in db.ChatMembers
            where chatIds.Contains(reader.ChatId) && (viewerId == null || reader.UserId == viewerId)
            join chat in db.Chats on reader.ChatId equals chat.Id
            select new UnreadRow(
                reader.ChatId,
                reader.UserId,
                chat.LastSeq - reader.ReadSeq
                    - db.Messages.Count(m => m.ChatId == reader.ChatId && m.SenderId == reader.UserId && m.Seq > reader.ReadSeq)
                    - db.Messages.Count(m => m.ChatId == reader.ChatId && m.DeletedAt != null && m.Seq > reader.ReadSeq && m.SenderId != reader.UserId)));

    private sealed record UnreadRow(Guid ChatId, Guid UserId, long Count);

    private static ChatDto Compose(Chat chat, Guid viewerId, Loaded data)
    {
        var members = data.Members[chat.Id].ToList();
        var watermarks = members.Select(m => Watermark.Of(m.Member)).ToList();
        var other = chat.Type == ChatType.Direct ? members.FirstOrDefault(m => m.Member.UserId != viewerId) : null;
        return new ChatDto(
            chat.Id,
            chat.Type,
            other?.DisplayName ?? chat.Name,
            Avatars.UrlOf(other is null ? chat.AvatarFileId : other.AvatarFileId),
            chat.CreatedAt,
            chat.UpdatedAt,
            chat.LastSeq,
            data.Unread.GetValueOrDefault((chat.Id, viewerId)),
            data.LastMessages.TryGetValue(chat.Id, out var last) ? MessageDto.From(last, watermarks) : null,
            members.FirstOrDefault(m => m.Member.UserId == viewerId)?.Member.Role ?? ChatRole.Member,
            members.Select(m => new ChatMemberDto(
                m.Member.UserId, m.UserName, m.DisplayName, Avatars.UrlOf(m.AvatarFileId), m.Member.Role, m.Member.JoinedAt)).ToList());
    }
}
