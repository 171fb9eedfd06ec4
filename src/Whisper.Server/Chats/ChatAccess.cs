using Microsoft.EntityFrameworkCore;
using Whisper.Server.Common;
using Whisper.Server.Data;

namespace Whisper.Server.Chats;

/// <summary>
/// The one membership check every chat-scoped feature goes through. A chat the caller is not a member
/// of answers "not found", exactly like one that does not exist.
/// </summary>
public static class ChatAccess
{
    public static async Task<Result<ChatMember>> MembershipAsync(this WhisperDbContext db, Guid chatId, Guid userId, CancellationToken cancellationToken) =>
        await db.ChatMembers.AsNoTracking().SingleOrDefaultAsync(m => m.ChatId == chatId && m.UserId == userId, cancellationToken) is { } member
            ? member
            : Failure.NotFound("Chat");

    public static bool IsAdmin(this ChatMember member) => member.Role is ChatRole.Admin or ChatRole.Owner;
}
