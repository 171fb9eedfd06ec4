using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Realtime;

namespace Whisper.Server.Chats;

/// <remarks>Announcements after a commit never take the caller's token: what is stored is always announced.</remarks>
public sealed class ChatService(WhisperDbContext db, ChatViews views, ChatNotifier notifier, IOptions<WhisperOptions> options, TimeProvider time)
{
    public const int MaxNameLength = 100;

    private int MaxGroupMembers => options.Value.Chats.MaxGroupMembers;

    /// <summary>The caller's chats, most recent activity first; <paramref name="before"/> is the last seen <c>updatedAt</c>.</summary>
    public Task<Page<ChatDto>> ListAsync(Guid callerId, int? limit, DateTime? before, CancellationToken cancellationToken) =>
        views.PageAsync(callerId, Limits.Clamp(limit, 30, 100), before?.ToUniversalTime(), cancellationToken);

    public async Task<Result<ChatDto>> GetAsync(Guid callerId, Guid chatId, CancellationToken cancellationToken)
    {
        var chat = await db.Chats.AsNoTracking().SingleOrDefaultAsync(c => c.Id == chatId && c.Members.Any(m => m.UserId == callerId), cancellationToken);
        return chat is null ? Failure.NotFound("Chat") : await views.ForAsync(callerId, chat, cancellationToken);
    }

    /// <summary>The pair's one direct chat: created now (true) or the existing one (false), also under concurrent creation.</summary>
    public async Task<Result<(ChatDto Chat, bool Created)>> CreateAsync(Guid callerId, CreateChatRequest request, CancellationToken cancellationToken) =>
        request.Type switch
        {
            ChatType.Direct => await CreateDirectAsync(callerId, request, cancellationToken),
            ChatType.Group => await CreateGroupAsync(callerId, request, cancellationToken),
            _ => Failure.Invalid("type", "Type must be \"direct\" or \"group\"."),
        };

    private async Task<Result<(ChatDto, bool)>> CreateDirectAsync(Guid callerId, CreateChatRequest request, CancellationToken cancellationToken)
    {
        if (request.UserId is not { } otherId)
        {
            return Failure.Invalid("userId", "userId is required for a direct chat.");
        }

        if (otherId == callerId)
        {
            return Failure.Invalid("userId", "A direct chat needs another user.");
        }

        if (!await db.Users.AnyAsync(u => u.Id == otherId, cancellationToken))
        {
            return Failure.Invalid("userId", "No such user.");
        }

        var key = Chat.DirectKeyOf(callerId, otherId);
        if (await db.Chats.AsNoTracking().SingleOrDefaultAsync(c => c.DirectKey == key, cancellationToken) is { } existing)
        {
            return (await views.ForAsync(callerId, existing, cancellationToken), false);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var chat = new Chat
        {
            Id = Ids.New(),
            Type = ChatType.Direct,
            DirectKey = key,
            CreatedById = callerId,
            CreatedAt = now,
            UpdatedAt = now,
            Members =
            [
                new ChatMember { UserId = callerId, Role = ChatRole.Member, JoinedAt = now },
                new ChatMember { UserId = otherId, Role = ChatRole.Member, JoinedAt = now },
            ],
        };
        db.Chats.Add(chat);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await notifier.ChatCreatedAsync(chat, CancellationToken.None);
            return (await views.ForAsync(callerId, chat, cancellationToken), true);
        }
        catch (DbUpdateException exception) when (exception.IsUniqueViolation())
        {
            // Both users opened the chat at the same moment; the other request stored it first.
            db.ChangeTracker.Clear();
            var winner = await db.Chats.AsNoTracking().SingleAsync(c => c.DirectKey == key, cancellationToken);
            return (await views.ForAsync(callerId, winner, cancellationToken), false);
        }
    }

    private async Task<Result<(ChatDto, bool)>> CreateGroupAsync(Guid callerId, CreateChatRequest request, CancellationToken cancellationToken)
    {
        var memberIds = (request.MemberIds ?? []).Where(id => id != callerId).Distinct().ToList();
        var errors = new ValidationErrors();
        CheckName(request.Name, errors, required: true);
        if (memberIds.Count + 1 > MaxGroupMembers)
        {
            errors.Add("memberIds", $"A group has at most {MaxGroupMembers} members.");
        }
        else if (await UnknownUsersAsync(memberIds, cancellationToken) is { Count: > 0 } unknown)
        {
            errors.Add("memberIds", $"No such users: {string.Join(", ", unknown)}.");
        }

        if (errors.Any)
        {
            return errors.ToFailure();
        }

        var now = time.GetUtcNow().UtcDateTime;
        var chat = new Chat
        {
            Id = Ids.New(),
            Type = ChatType.Group,
            Name = request.Name!.Trim(),
            CreatedById = callerId,
            CreatedAt = now,
            UpdatedAt = now,
            Members = [new ChatMember { UserId = callerId, Role = ChatRole.Owner, JoinedAt = now }],
        };
        chat.Members.AddRange(memberIds.Select(id => new ChatMember { UserId = id, Role = ChatRole.Member, JoinedAt = now }));
        db.Chats.Add(chat);
        await db.SaveChangesAsync(cancellationToken);
        await notifier.ChatCreatedAsync(chat, CancellationToken.None);
        return (await views.ForAsync(callerId, chat, cancellationToken), true);
    }

    public async Task<Result<ChatDto>> UpdateAsync(Guid callerId, Guid chatId, UpdateChatRequest request, CancellationToken cancellationToken)
    {
        var access = await GroupAdminAccessAsync(callerId, chatId, "change the group", cancellationToken);
        if (access.Failure is { } failure)
        {
            return failure;
        }

        var errors = new ValidationErrors();
        CheckName(request.Name, errors, required: false);
        if (request.AvatarFileId is { } avatarId
            && !await db.Files.AnyAsync(f => f.Id == avatarId && f.ChatId == chatId && f.DeletedAt == null && f.ContentType.StartsWith("image/"), cancellationToken))
        {
            errors.Add("avatarFileId", "The avatar must be an image shared in this chat.");
        }

        if (errors.Any)
        {
            return errors.ToFailure();
        }

        var chat = access.Value!;
        chat.Name = request.Name?.Trim() ?? chat.Name;
        chat.AvatarFileId = request.AvatarFileId ?? chat.AvatarFileId;
        await db.SaveChangesAsync(cancellationToken);
        await notifier.ChatUpdatedAsync(chat, CancellationToken.None);
        return await views.ForAsync(callerId, chat, cancellationToken);
    }

    public async Task<Result<ChatDto>> AddMembersAsync(Guid callerId, Guid chatId, AddMembersRequest request, CancellationToken cancellationToken)
    {
        var access = await GroupAdminAccessAsync(callerId, chatId, "add members", cancellationToken);
        if (access.Failure is { } failure)
        {
            return failure;
        }

        var chat = access.Value!;
        var requested = (request.UserIds ?? []).Distinct().ToList();
        if (requested.Count == 0)
        {
            return Failure.Invalid("userIds", "Name at least one user to add.");
        }

        var existing = await db.ChatMembers.Where(m => m.ChatId == chatId).Select(m => m.UserId).ToListAsync(cancellationToken);
        var toAdd = requested.Except(existing).ToList();
        if (await UnknownUsersAsync(toAdd, cancellationToken) is { Count: > 0 } unknown)
        {
            return Failure.Invalid("userIds", $"No such users: {string.Join(", ", unknown)}.");
        }

        if (existing.Count + toAdd.Count > MaxGroupMembers)
        {
            return Failure.Invalid("userIds", $"A group has at most {MaxGroupMembers} members.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        // History stays readable; what was sent before joining counts as already read.
        db.ChatMembers.AddRange(toAdd.Select(id => new ChatMember
        {
            ChatId = chatId,
            UserId = id,
            Role = ChatRole.Member,
            JoinedAt = now,
            JoinedSeq = chat.LastSeq,
            DeliveredSeq = chat.LastSeq,
            ReadSeq = chat.LastSeq,
        }));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.IsUniqueViolation())
        {
            return Failure.Conflict("The members changed meanwhile; try again.");
        }

        await notifier.MembersAddedAsync(chat, toAdd, CancellationToken.None);
        return await views.ForAsync(callerId, chat, cancellationToken);
    }

    /// <summary>
    /// Any member may leave; admins remove members, only the owner removes admins, nobody removes the
    /// owner. An owner who leaves hands the group to the longest-standing admin, else member.
    /// </summary>
    public async Task<Result<Done>> RemoveMemberAsync(Guid callerId, Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        var found = await GroupWithMembersAsync(callerId, chatId, "Members cannot be removed from a direct chat.", cancellationToken);
        if (found.Failure is { } failure)
        {
            return failure;
        }

        var chat = found.Value!;
        var caller = chat.Members.Single(m => m.UserId == callerId);
        var target = chat.Members.SingleOrDefault(m => m.UserId == userId);
        if (target is null)
        {
            return Failure.NotFound("Member");
        }

        if (target != caller)
        {
            var allowed = caller.Role switch
            {
                ChatRole.Owner => true,
                ChatRole.Admin => target.Role == ChatRole.Member,
                _ => false,
            };
            if (!allowed)
            {
                return Failure.Forbidden(target.Role == ChatRole.Owner
                    ? "The owner cannot be removed."
                    : "Only admins remove members, and only the owner removes admins.");
            }
        }

        chat.Members.Remove(target);
        if (target.Role == ChatRole.Owner && chat.Members.Count > 0)
        {
            var heir = chat.Members.OrderByDescending(m => m.Role).ThenBy(m => m.JoinedAt).First();
            heir.Role = ChatRole.Owner;
        }

        await db.SaveChangesAsync(cancellationToken);
        await notifier.MemberRemovedAsync(chat, userId, CancellationToken.None);
        return Done.Value;
    }

    public async Task<Result<ChatDto>> SetRoleAsync(Guid callerId, Guid chatId, Guid userId, SetRoleRequest request, CancellationToken cancellationToken)
    {
        var found = await GroupWithMembersAsync(callerId, chatId, "A direct chat has no roles.", cancellationToken);
        if (found.Failure is { } failure)
        {
            return failure;
        }

        var chat = found.Value!;
        if (chat.Members.Single(m => m.UserId == callerId).Role != ChatRole.Owner)
        {
            return Failure.Forbidden("Only the owner changes roles.");
        }

        if (request.Role is not (ChatRole.Admin or ChatRole.Member))
        {
            return Failure.Invalid("role", "Role must be \"admin\" or \"member\".");
        }

        var target = chat.Members.SingleOrDefault(m => m.UserId == userId);
        if (target is null)
        {
            return Failure.NotFound("Member");
        }

        if (target.Role == ChatRole.Owner)
        {
            return Failure.BadRequest("The owner's role cannot be changed.");
        }

        target.Role = request.Role.Value;
        await db.SaveChangesAsync(cancellationToken);
        await notifier.ChatUpdatedAsync(chat, CancellationToken.None);
        return await views.ForAsync(callerId, chat, cancellationToken);
    }

    /// <summary>The tracked group chat with its members, when the caller is one of them.</summary>
    private async Task<Result<Chat>> GroupWithMembersAsync(Guid callerId, Guid chatId, string directChatRefusal, CancellationToken cancellationToken)
    {
        var chat = await db.Chats.Include(c => c.Members).SingleOrDefaultAsync(c => c.Id == chatId && c.Members.Any(m => m.UserId == callerId), cancellationToken);
        if (chat is null)
        {
            return Failure.NotFound("Chat");
        }

        return chat.Type == ChatType.Direct ? Failure.BadRequest(directChatRefusal) : chat;
    }

    /// <summary>The tracked group chat, when the caller is one of its admins.</summary>
    private async Task<Result<Chat>> GroupAdminAccessAsync(Guid callerId, Guid chatId, string action, CancellationToken cancellationToken)
    {
        var membership = await db.MembershipAsync(chatId, callerId, cancellationToken);
        if (membership.Failure is { } failure)
        {
            return failure;
        }

        var chat = await db.Chats.SingleAsync(c => c.Id == chatId, cancellationToken);
        if (chat.Type == ChatType.Direct)
        {
            return Failure.BadRequest($"Cannot {action}: this is a direct chat.");
        }

        return membership.Value!.IsAdmin() ? chat : Failure.Forbidden($"Only the group's admins can {action}.");
    }

    private async Task<List<Guid>> UnknownUsersAsync(List<Guid> userIds, CancellationToken cancellationToken)
    {
        var known = await db.Users.Where(u => userIds.Contains(u.Id)).Select(u => u.Id).ToListAsync(cancellationToken);
        return userIds.Except(known).ToList();
    }

    private static void CheckName(string? name, ValidationErrors errors, bool required)
    {
        if (name is null && !required)
        {
            return;
        }

        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0 || trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
        {
            errors.Add("name", $"Name must be 1-{MaxNameLength} characters without control characters.");
        }
    }
}
