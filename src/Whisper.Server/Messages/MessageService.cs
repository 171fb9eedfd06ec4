using Microsoft.EntityFrameworkCore;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Files;
using Whisper.Server.Operations;
using Whisper.Server.Push;
using Whisper.Server.Realtime;
using Whisper.Server.Receipts;

namespace Whisper.Server.Messages;

/// <summary>Every message change goes through here, whether it came over REST or the hub.</summary>
public sealed class MessageService(
    WhisperDbContext db,
    ChatMembershipCache memberships,
    MessageWriter writer,
    FileService files,
    MessageSearch search,
    MessagePages pages,
    ChatNotifier notifier,
    PushQueue pushes,
    WhisperMetrics metrics,
    TimeProvider time)
{
    public const int MaxContentLength = 4000;
    public const int MaxClientMessageIdLength = 64;

    /// <summary>
    /// Stores a message with the chat's next <c>seq</c>, assigned inside the storing transaction.
    /// A retry with the same <c>clientMessageId</c> returns the stored message and stores nothing.
    /// </summary>
    /// <param name="originConnectionId">The hub connection that sent it, which gets the message as its answer instead of an event.</param>
    public async Task<Result<SendOutcome>> SendAsync(
        Guid senderId, Guid chatId, SendMessageRequest request, CancellationToken cancellationToken, string? originConnectionId = null)
    {
        if (!await memberships.IsMemberAsync(chatId, senderId, cancellationToken))
        {
            return Failure.NotFound("Chat");
        }

        // A retry is recognised when storing it is refused for its clientMessageId, so that a first send (nearly
        // every send) costs no lookup. A retry that would now be refused (its file or reply since deleted) still
        // gets the message it stored the first time.
        var validated = await ValidateAsync(chatId, request, cancellationToken);
        if (validated.Failure is { } invalid)
        {
            return request.ClientMessageId is { } clientMessageId && IsWellFormedKey(clientMessageId) && await FindRetryAsync(senderId, chatId, clientMessageId, cancellationToken) is { } retry
                ? retry
                : invalid;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var message = new Message
        {
            Id = Ids.New(),
            ChatId = chatId,
            SenderId = senderId,
            Type = validated.Value,
            Content = NormalizeContent(request.Content),
            FileId = request.FileId,
            ReplyToId = request.ReplyToId,
            ClientMessageId = request.ClientMessageId,
            CreatedAt = now,
        };

        if (!await writer.StoreAsync(message))
        {
            // A message with this key was stored before (this is a retry) or by a concurrent retry: answer with that one.
            return request.ClientMessageId is { } key && await FindRetryAsync(senderId, chatId, key, CancellationToken.None) is { } winner
                ? winner
                : throw new InvalidOperationException("A message was refused as a repeat, but no stored message has its key.");
        }

        // Stored: from here on the message is announced even if the sender has gone (a reload mid-send),
        // so nothing after the commit may be cancelled by the sender's token.
        if (message.FileId is { } fileId)
        {
            message.File = await db.Files.AsNoTracking().SingleAsync(f => f.Id == fileId, CancellationToken.None);
        }

        metrics.MessageSent();
        // Nobody can have received a message that was just stored: its status is "sent" without asking.
        var stored = MessageDto.From(message, []);
        notifier.MessageCreated(stored, originConnectionId);
        pushes.MessageStored(stored);
        return new SendOutcome(stored, Created: true);
    }

    /// <summary>
    /// A page in ascending <c>seq</c>: the newest page by default, older than <paramref name="before"/>,
    /// or newer than <paramref name="after"/> (how a client fetches what it missed).
    /// </summary>
    public async Task<Result<Page<MessageDto>>> ListAsync(
        Guid callerId, Guid chatId, long? before, long? after, int? limit, CancellationToken cancellationToken)
    {
        // Membership from memory, as for sends: history is the other hot path.
        if (!await memberships.IsMemberAsync(chatId, callerId, cancellationToken))
        {
            return Failure.NotFound("Chat");
        }

        var take = Limits.Clamp(limit, 50, 200);
        // Without "after", the page ends at "before" (or the newest message), so it is read newest first.
        var (messages, members) = await pages.ReadAsync(chatId, after ?? 0, before ?? long.MaxValue, take + 1, newestFirst: after is null, cancellationToken);
        var hasMore = messages.Count > take;
        if (hasMore)
        {
            messages.RemoveAt(messages.Count - 1);
        }

        if (after is null)
        {
            messages.Reverse();
        }

        return new Page<MessageDto>(messages.Select(m => MessageDto.From(m, members)).ToList(), hasMore);
    }

    public async Task<Result<MessageDto>> EditAsync(Guid callerId, Guid messageId, EditMessageRequest request, CancellationToken cancellationToken)
    {
        var found = await FindVisibleAsync(callerId, messageId, cancellationToken);
        if (found.Failure is { } failure)
        {
            return failure;
        }

        var (message, _) = found.Value;
        if (message.SenderId != callerId)
        {
            return Failure.Forbidden("Only the sender can edit a message.");
        }

        if (message.DeletedAt is not null)
        {
            return Failure.Conflict("A deleted message cannot be edited.");
        }

        if (TextRules.RefuseNul(request.Content, "content") is { } nul)
        {
            return nul;
        }

        var content = NormalizeContent(request.Content);
        if (content is null && message.FileId is null)
        {
            return Failure.Invalid("content", "Content is required.");
        }

        if (content is { Length: > MaxContentLength })
        {
            return Failure.Invalid("content", $"Content is limited to {MaxContentLength} characters.");
        }

        message.Content = content;
        message.EditedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        var edited = await ToDtoAsync(message, CancellationToken.None);
        notifier.MessageUpdated(edited);
        return edited;
    }

    /// <summary>The sender, or an admin of the group, deletes: content and file go, a tombstone keeps the seq.</summary>
    public async Task<Result<MessageDto>> DeleteAsync(Guid callerId, Guid messageId, CancellationToken cancellationToken)
    {
        var found = await FindVisibleAsync(callerId, messageId, cancellationToken);
        if (found.Failure is { } failure)
        {
            return failure;
        }

        var (message, membership) = found.Value;
        var isGroupAdmin = membership.IsAdmin() && await db.Chats.AnyAsync(c => c.Id == message.ChatId && c.Type == ChatType.Group, cancellationToken);
        if (message.SenderId != callerId && !isGroupAdmin)
        {
            return Failure.Forbidden("Only the sender or a group admin can delete a message.");
        }

        if (message.DeletedAt is null)
        {
            message.Content = null;
            message.DeletedAt = time.GetUtcNow().UtcDateTime;
            var file = message.File;
            message.File = null;
            message.FileId = null;
            if (file is { DeletedAt: null })
            {
                await files.MarkDeletedAsync([file], cancellationToken);
            }
            else
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            var tombstone = await ToDtoAsync(message, CancellationToken.None);
            notifier.MessageUpdated(tombstone);
            return tombstone;
        }

        return await ToDtoAsync(message, cancellationToken);
    }

    /// <summary>Full-text search inside one chat, newest match first; <paramref name="before"/> is a seq cursor.</summary>
    public async Task<Result<Page<MessageDto>>> SearchAsync(
        Guid callerId, Guid chatId, string? query, long? before, int? limit, CancellationToken cancellationToken)
    {
        if ((await db.MembershipAsync(chatId, callerId, cancellationToken)).Failure is { } failure)
        {
            return failure;
        }

        if (string.IsNullOrWhiteSpace(query) || query.Length > 200 || TextRules.HasNul(query))
        {
            return Failure.Invalid("q", "The search text must be 1-200 characters, without the NUL character (U+0000).");
        }

        var take = Limits.Clamp(limit, 20, 50);
        var messages = await search.FindAsync(chatId, query, before, take + 1, cancellationToken);
        var page = Page<Message>.FromOverfetch(messages, take);
        return new Page<MessageDto>(await ToDtosAsync(chatId, page.Items, cancellationToken), page.HasMore);
    }

    public async Task<MessageDto> ToDtoAsync(Message message, CancellationToken cancellationToken) =>
        (await ToDtosAsync(message.ChatId, [message], cancellationToken))[0];

    /// <summary>Maps messages of one chat, loading the members' watermarks once for their statuses.</summary>
    public async Task<IReadOnlyList<MessageDto>> ToDtosAsync(Guid chatId, IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return [];
        }

        var members = await pages.WatermarksAsync(chatId, cancellationToken);
        return messages.Select(m => MessageDto.From(m, members)).ToList();
    }

    private async Task<Result<SendOutcome>?> FindRetryAsync(Guid senderId, Guid chatId, string clientMessageId, CancellationToken cancellationToken)
    {
        var existing = await db.Messages.AsNoTracking().Include(m => m.File)
            .SingleOrDefaultAsync(m => m.SenderId == senderId && m.ClientMessageId == clientMessageId, cancellationToken);
        if (existing is null)
        {
            return null;
        }

        return existing.ChatId == chatId
            ? new SendOutcome(await ToDtoAsync(existing, cancellationToken), Created: false)
            : Failure.Conflict("That clientMessageId was already used for a message in another chat.");
    }

    private static bool IsWellFormedKey(string clientMessageId) =>
        clientMessageId.Length is > 0 and <= MaxClientMessageIdLength && !clientMessageId.Any(char.IsControl);

    /// <summary>Checks the request and decides the message type.</summary>
    private async Task<Result<MessageType>> ValidateAsync(Guid chatId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors().CheckNoNul(request.Content, "content");
        var content = NormalizeContent(request.Content);
        if (content is { Length: > MaxContentLength })
        {
            errors.Add("content", $"Content is limited to {MaxContentLength} characters.");
        }

        if (content is null && request.FileId is null)
        {
            errors.Add("content", "A message needs content, a file, or both.");
        }

        if (request.ClientMessageId is { } key && !IsWellFormedKey(key))
        {
            errors.Add("clientMessageId", $"clientMessageId must be 1-{MaxClientMessageIdLength} printable characters.");
        }

        if (request.Type == MessageType.System)
        {
            errors.Add("type", "Clients cannot send system messages.");
        }
        else if (request.Type is { } requested && !Enum.IsDefined(requested))
        {
            errors.Add("type", "Unknown message type.");
        }

        StoredFile? file = null;
        if (request.FileId is { } fileId)
        {
            file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Id == fileId && f.ChatId == chatId && f.DeletedAt == null, cancellationToken);
            if (file is null)
            {
                errors.Add("fileId", "No such file in this chat.");
            }
        }

        if (request.ReplyToId is { } replyToId && !await db.Messages.AnyAsync(m => m.Id == replyToId && m.ChatId == chatId, cancellationToken))
        {
            errors.Add("replyToId", "No such message in this chat.");
        }

        if (errors.Any)
        {
            return errors.ToFailure();
        }

        return request.Type ?? (file is null ? MessageType.Text : ContentTypes.MessageTypeOf(file.ContentType));
    }

    private async Task<Result<(Message Message, ChatMember Membership)>> FindVisibleAsync(Guid callerId, Guid messageId, CancellationToken cancellationToken)
    {
        var message = await db.Messages.Include(m => m.File).SingleOrDefaultAsync(m => m.Id == messageId, cancellationToken);
        if (message is null)
        {
            return Failure.NotFound("Message");
        }

        var membership = await db.MembershipAsync(message.ChatId, callerId, cancellationToken);
        return membership.Match<Result<(Message, ChatMember)>>(member => (message, member), _ => Failure.NotFound("Message"));
    }

    private static string? NormalizeContent(string? content) => string.IsNullOrWhiteSpace(content) ? null : content;
}
