using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Whisper.Server.Data;

namespace Whisper.Server.Chats;

/// <summary>
/// Who is in a chat, for the hot paths: every send checks the sender's membership and every push
/// plans its recipients, so the member list is read from memory rather than the database each time.
/// Every membership change (on this node at once, on the others through cluster events) drops the
/// chat's entry; a short expiry bounds how long a missed event (Redis down) can leave it stale.
/// </summary>
public sealed class ChatMembershipCache(IMemoryCache cache, IServiceScopeFactory scopes)
{
    private static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(30);

    // Bumped by every invalidation. A load that overlapped one may have read the old members, so it
    // answers with what it read but does not cache it.
    private long invalidations;

    public async ValueTask<IReadOnlySet<Guid>> MembersAsync(Guid chatId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(Key(chatId), out IReadOnlySet<Guid>? members))
        {
            return members!;
        }

        var before = Interlocked.Read(ref invalidations);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        members = (await db.ChatMembers.AsNoTracking().Where(m => m.ChatId == chatId).Select(m => m.UserId).ToListAsync(cancellationToken)).ToHashSet();
        // A chat with no members does not exist: sends to made-up ids are not worth remembering.
        if (members.Count > 0 && Interlocked.Read(ref invalidations) == before)
        {
            cache.Set(Key(chatId), members, KeepFor);
        }

        return members;
    }

    public async ValueTask<bool> IsMemberAsync(Guid chatId, Guid userId, CancellationToken cancellationToken) =>
        (await MembersAsync(chatId, cancellationToken)).Contains(userId);

    /// <summary>Called after a change to the chat's members is committed.</summary>
    public void Invalidate(Guid chatId)
    {
        Interlocked.Increment(ref invalidations);
        cache.Remove(Key(chatId));
    }

    private static string Key(Guid chatId) => $"members:{chatId}";
}
