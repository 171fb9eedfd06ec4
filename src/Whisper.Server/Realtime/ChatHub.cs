using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Auth;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Presence;
using Whisper.Server.Receipts;

namespace Whisper.Server.Realtime;

/// <summary>
/// The real-time endpoint. Its methods call the same services as REST; a refusal is a
/// <see cref="HubException"/> with the same words as the REST problem, and the connection stays up.
/// </summary>
[Authorize]
public sealed class ChatHub(
    WhisperDbContext db,
    MessageService messages,
    ReceiptService receipts,
    ChatNotifier notifier,
    ConnectionRegistry connections,
    IPresenceTracker presence,
    HubSendThrottle sendThrottle,
    TimeProvider time) : Hub<IChatClient>
{
    private Guid UserId => Context.User!.UserId();

    /// <summary>Joins the user's own group and the groups of its chats; the first device makes it online.</summary>
    public override async Task OnConnectedAsync()
    {
        var userId = UserId;
        var counted = false;
        // Registered before the chats are read, so a chat joined meanwhile still adds this connection.
        connections.Add(userId, Context.User!.SessionId(), Context);
        try
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.User(userId));
            var chatIds = await db.ChatMembers.AsNoTracking().Where(m => m.UserId == userId).Select(m => m.ChatId).ToListAsync(Context.ConnectionAborted);
            foreach (var chatId in chatIds)
            {
                await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Chat(chatId));
            }

            counted = true;
            if (await presence.ConnectedAsync(userId))
            {
                await notifier.PresenceChangedAsync(userId, online: true, Context.ConnectionAborted);
            }
        }
        catch
        {
            // SignalR calls OnDisconnectedAsync only for a connection whose OnConnectedAsync completed. One cut
            // (or failing) half-way through is undone here, or its user would stay online and its entry stay registered.
            await ForgetConnectionAsync(userId, counted);
            throw;
        }
    }

    /// <summary>The last device going away (closed, crashed or timed out) stores last seen and makes the user offline.</summary>
    public override Task OnDisconnectedAsync(Exception? exception) => ForgetConnectionAsync(UserId, counted: true);

    private async Task ForgetConnectionAsync(Guid userId, bool counted)
    {
        connections.Remove(Context.ConnectionId);
        if (counted && await presence.DisconnectedAsync(userId))
        {
            var now = time.GetUtcNow().UtcDateTime;
            await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastSeenAt, now), CancellationToken.None);
            await notifier.PresenceChangedAsync(userId, online: false, CancellationToken.None);
        }
    }

    public async Task<MessageDto> SendMessage(string chatId, SendMessageRequest? message)
    {
        if (sendThrottle.TryAttempt(UserId.ToString()) is { } retryAfter)
        {
            throw new HubException($"Too many messages; retry in {Math.Ceiling(retryAfter.TotalSeconds)} seconds.");
        }

        var result = await messages.SendAsync(UserId, ParseId(chatId, nameof(chatId)), message ?? new SendMessageRequest(null, null, null, null, null),
            Context.ConnectionAborted, originConnectionId: Context.ConnectionId);
        return result.Match(outcome => outcome.Message, failure => throw new HubException(failure.Detail));
    }

    public Task MarkDelivered(string chatId, long seq) => MarkAsync(chatId, seq, ReceiptStatus.Delivered);

    public Task MarkRead(string chatId, long seq) => MarkAsync(chatId, seq, ReceiptStatus.Read);

    public async Task Typing(string chatId)
    {
        var id = ParseId(chatId, nameof(chatId));
        if ((await db.MembershipAsync(id, UserId, Context.ConnectionAborted)).Failure is { } failure)
        {
            throw new HubException(failure.Detail);
        }

        notifier.Typing(new TypingEvent(id, UserId), Context.ConnectionId);
    }

    private async Task MarkAsync(string chatId, long seq, ReceiptStatus status)
    {
        var result = await receipts.AdvanceAsync(UserId, ParseId(chatId, nameof(chatId)), seq, status, Context.ConnectionAborted);
        if (result.Failure is { } failure)
        {
            throw new HubException(failure.Detail);
        }
    }

    /// <summary>Ids arrive as strings so that a malformed one gets a clear refusal, not a binding error.</summary>
    private static Guid ParseId(string? value, string name) =>
        Guid.TryParse(value, out var id) ? id : throw new HubException($"{name} must be an id like 01a2082d-44e4-708c-8834-ef7632e3f53b.");
}
