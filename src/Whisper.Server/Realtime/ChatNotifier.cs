using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Chats;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Presence;
using Whisper.Server.Receipts;

namespace Whisper.Server.Realtime;

/// <summary>
/// Turns committed changes into hub events; services call it only after their transaction committed,
/// so nothing is announced that is not stored. Fan-out is not awaited by the caller: a slow or
/// stalled connection never delays a sender (SignalR bounds each connection's buffer and closes one
/// whose sends stall past the transport send timeout).
/// </summary>
public sealed partial class ChatNotifier(
    IHubContext<ChatHub, IChatClient> hub,
    IClusterEvents cluster,
    ChatViews views,
    IPresenceTracker presence,
    WhisperDbContext db,
    ILogger<ChatNotifier> logger)
{
    /// <param name="exceptConnectionId">The hub connection that sent it: its copy is the invocation's answer.</param>
    public void MessageCreated(MessageDto message, string? exceptConnectionId) => Observe(
        exceptConnectionId is null
            ? hub.Clients.Group(HubGroups.Chat(message.ChatId)).messageCreated(message)
            : hub.Clients.GroupExcept(HubGroups.Chat(message.ChatId), exceptConnectionId).messageCreated(message),
        nameof(IChatClient.messageCreated));

    public void MessageUpdated(MessageDto message) =>
        Observe(hub.Clients.Group(HubGroups.Chat(message.ChatId)).messageUpdated(message), nameof(IChatClient.messageUpdated));

    /// <summary>To the reader's devices and to <paramref name="senders"/>, whose messages' status changed; nobody else's did.</summary>
    public void ReceiptUpdated(ReceiptAdvanced receipt, IReadOnlyCollection<Guid> senders) =>
        Observe(
            hub.Clients.Groups([HubGroups.User(receipt.UserId), .. senders.Where(s => s != receipt.UserId).Select(HubGroups.User)]).receiptUpdated(receipt),
            nameof(IChatClient.receiptUpdated));

    public void Typing(TypingEvent typing, string exceptConnectionId) =>
        Observe(hub.Clients.GroupExcept(HubGroups.Chat(typing.ChatId), exceptConnectionId).typing(typing), nameof(IChatClient.typing));

    /// <summary>Puts every member's connections into the chat's group, then tells each member.</summary>
    public async Task ChatCreatedAsync(Chat chat, CancellationToken cancellationToken)
    {
        var perMember = await views.ForMembersAsync(chat, cancellationToken);
        await JoinAsync(chat.Id, perMember.Keys, cancellationToken);
        foreach (var (userId, view) in perMember)
        {
            Observe(hub.Clients.Group(HubGroups.User(userId)).chatCreated(view), nameof(IChatClient.chatCreated));
        }
    }

    /// <summary>New members start receiving at once: chatCreated for them, chatUpdated for the others.</summary>
    public async Task MembersAddedAsync(Chat chat, IReadOnlyCollection<Guid> added, CancellationToken cancellationToken)
    {
        var perMember = await views.ForMembersAsync(chat, cancellationToken);
        await JoinAsync(chat.Id, added, cancellationToken);
        foreach (var (userId, view) in perMember)
        {
            var group = hub.Clients.Group(HubGroups.User(userId));
            Observe(added.Contains(userId) ? group.chatCreated(view) : group.chatUpdated(view), "chat membership");
        }
    }

    public async Task ChatUpdatedAsync(Chat chat, CancellationToken cancellationToken)
    {
        foreach (var (userId, view) in await views.ForMembersAsync(chat, cancellationToken))
        {
            Observe(hub.Clients.Group(HubGroups.User(userId)).chatUpdated(view), nameof(IChatClient.chatUpdated));
        }
    }

    /// <summary>
    /// Tells the chat (the removed member included), then takes the removed member's connections out
    /// of its group before the removal is answered, so it receives nothing more.
    /// </summary>
    public async Task MemberRemovedAsync(Chat chat, Guid removedUserId, CancellationToken cancellationToken)
    {
        var removal = new MemberRemoved(chat.Id, removedUserId);
        await hub.Clients.Groups(HubGroups.Chat(chat.Id), HubGroups.User(removedUserId)).memberRemoved(removal);
        await cluster.MembershipChangedAsync(removedUserId, chat.Id, joined: false);

        await ChatUpdatedAsync(chat, cancellationToken);
    }

    /// <summary>
    /// Tells the users who share a chat with this one, unless their privacy setting is "nobody", and unless the change
    /// no longer holds: a device connecting while the user's last one was going away (a reload, a quick reconnect)
    /// makes two changes whose announcements race, and the stale one, arriving last, would show the user offline while
    /// online (or online while gone) until the next change. So each is checked against the tracker just before it goes.
    /// </summary>
    public async Task PresenceChangedAsync(Guid userId, bool online, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.LastSeenVisibility, u.LastSeenAt }).SingleOrDefaultAsync(cancellationToken);
        if (user is null || user.LastSeenVisibility == LastSeenVisibility.Nobody)
        {
            return;
        }

        var contacts = await db.ChatMembers.AsNoTracking()
            .Where(other => other.UserId != userId && db.ChatMembers.Any(mine => mine.UserId == userId && mine.ChatId == other.ChatId))
            .Select(other => other.UserId).Distinct().ToListAsync(cancellationToken);
        if (contacts.Count > 0 && (await presence.OnlineAmongAsync([userId])).Contains(userId) == online)
        {
            Observe(hub.Clients.Groups(contacts.Select(HubGroups.User).ToList()).presenceChanged(new PresenceChanged(userId, online, user.LastSeenAt)),
                nameof(IChatClient.presenceChanged));
        }
    }

    private async Task JoinAsync(Guid chatId, IEnumerable<Guid> userIds, CancellationToken cancellationToken)
    {
        foreach (var userId in userIds)
        {
            await cluster.MembershipChangedAsync(userId, chatId, joined: true);
        }
    }

    private void Observe(Task send, string eventName) => _ = ObserveAsync(send, eventName);

    private async Task ObserveAsync(Task send, string eventName)
    {
        try
        {
            await send;
        }
        catch (Exception exception)
        {
            LogFanOutFailed(exception, eventName);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Fan-out of {EventName} failed")]
    private partial void LogFanOutFailed(Exception exception, string eventName);
}
