using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Users;

namespace Whisper.Server.Chats;

/// <summary>Builds <see cref="ChatDto"/>s for one viewer with a fixed number of queries per page of chats.</summary>
public sealed class ChatViews(WhisperDbContext db)
{
    public async Task<ChatDto> ForAsync(Guid viewerId, Chat chat, CancellationToken cancellationToken) =>
        (await ForAsync(viewerId, [chat], cancellationToken))[0];

    public async Task<IReadOnlyList<ChatDto>> ForAsync(Guid viewerId, IReadOnlyList<Chat> chats, CancellationToken cancellationToken)
    {
        var chatIds = chats.Select(c => c.Id).ToList();

        var members = await db.ChatMembers.AsNoTracking()
            .Where(m => chatIds.Contains(m.ChatId))
            .OrderBy(m => m.JoinedAt)
            .Select(m => new { Member = m, m.User!.UserName, m.User.DisplayName, m.User.AvatarFileId })
            .ToListAsync(cancellationToken);
        var membersByChat = members.ToLookup(m => m.Member.ChatId);

        var lastMessages = await db.Messages.AsNoTracking().Include(m => m.File)
            .Where(m => chatIds.Contains(m.ChatId) && db.Chats.Any(c => c.Id == m.ChatId && c.LastSeq == m.Seq))
            .ToDictionaryAsync(m => m.ChatId, cancellationToken);

        var unread = await (
                from message in db.Messages
                join mine in db.ChatMembers on message.ChatId equals mine.ChatId
                where mine.UserId == viewerId && chatIds.Contains(message.ChatId)
                    && message.Seq > mine.ReadSeq && message.SenderId != viewerId && message.DeletedAt == null
                group message by message.ChatId into perChat
                select new { ChatId = perChat.Key, Count = perChat.Count() })
            .ToDictionaryAsync(x => x.ChatId, x => x.Count, cancellationToken);

        return chats.Select(chat =>
        {
            var chatMembers = membersByChat[chat.Id].ToList();
            var watermarks = chatMembers.Select(m => Watermark.Of(m.Member)).ToList();
            var other = chat.Type == ChatType.Direct ? chatMembers.FirstOrDefault(m => m.Member.UserId != viewerId) : null;
            return new ChatDto(
                chat.Id,
                chat.Type,
                other?.DisplayName ?? chat.Name,
                Avatars.UrlOf(other is null ? chat.AvatarFileId : other.AvatarFileId),
                chat.CreatedAt,
                chat.UpdatedAt,
                chat.LastSeq,
                unread.GetValueOrDefault(chat.Id),
                lastMessages.TryGetValue(chat.Id, out var last) ? MessageDto.From(last, watermarks) : null,
                chatMembers.FirstOrDefault(m => m.Member.UserId == viewerId)?.Member.Role ?? ChatRole.Member,
                chatMembers.Select(m => new ChatMemberDto(
                    m.Member.UserId, m.UserName, m.DisplayName, Avatars.UrlOf(m.AvatarFileId), m.Member.Role, m.Member.JoinedAt)).ToList());
        }).ToList();
    }
}
