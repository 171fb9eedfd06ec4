using Microsoft.EntityFrameworkCore;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Presence;

namespace Whisper.Server.Users;

public sealed class UserService(WhisperDbContext db, IPresenceTracker presence)
{
    public async Task<Result<MeDto>> GetMeAsync(Guid callerId, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == callerId, cancellationToken) is { } user
            ? MeDto.From(user)
            : Failure.NotFound("User");

    public async Task<Result<UserDto>> GetAsync(Guid callerId, Guid userId, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return Failure.NotFound("User");
        }

        return (await ToDtosAsync(callerId, [user], cancellationToken))[0];
    }

    public async Task<Result<LastSeenDto>> GetLastSeenAsync(Guid callerId, Guid userId, CancellationToken cancellationToken) =>
        (await GetAsync(callerId, userId, cancellationToken)).Match<Result<LastSeenDto>>(
            user => new LastSeenDto(user.Id, user.Online, user.LastSeenAt),
            failure => failure);

    public async Task<Result<Page<UserDto>>> SearchAsync(Guid callerId, string? search, int? limit, CancellationToken cancellationToken)
    {
        if (TextRules.RefuseNul(search, "search") is { } nul)
        {
            return nul;
        }

        var take = Limits.Clamp(limit, 20, 50);
        var term = search?.Trim().ToLowerInvariant() ?? "";
        if (term.Length == 0)
        {
            return new Page<UserDto>([], false);
        }

        var users = await db.Users.AsNoTracking()
            .Where(u => u.UserName.StartsWith(term) || u.DisplayName.ToLower().Contains(term))
            .OrderBy(u => u.UserName)
            .Take(take + 1)
            .ToListAsync(cancellationToken);
        return Page<UserDto>.FromOverfetch(await ToDtosAsync(callerId, users, cancellationToken), take);
    }

    public async Task<Result<MeDto>> UpdateAsync(Guid callerId, Guid userId, UpdateUserRequest request, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return Failure.NotFound("User");
        }

        if (userId != callerId)
        {
            return Failure.Forbidden("Only the user may change their own profile.");
        }

        var errors = new ValidationErrors().CheckNoNul(request.About, "about");
        UserRules.CheckDisplayName(request.DisplayName, errors);
        if (request.About is { Length: > UserRules.MaxAbout })
        {
            errors.Add("about", $"About must be at most {UserRules.MaxAbout} characters.");
        }

        if (request.LastSeenVisibility is { } visibility && !Enum.IsDefined(visibility))
        {
            errors.Add("lastSeenVisibility", "Must be everyone, contacts or nobody.");
        }

        if (request.AvatarFileId is { } avatarId && !await IsOwnImageAsync(callerId, avatarId, cancellationToken))
        {
            errors.Add("avatarFileId", "The avatar must be an image file you uploaded.");
        }

        if (errors.Any)
        {
            return errors.ToFailure();
        }

        user.DisplayName = request.DisplayName?.Trim() ?? user.DisplayName;
        if (request.About is not null)
        {
            user.About = request.About.Trim() is { Length: > 0 } about ? about : null;
        }

        user.AvatarFileId = request.AvatarFileId ?? user.AvatarFileId;
        user.LastSeenVisibility = request.LastSeenVisibility ?? user.LastSeenVisibility;
        await db.SaveChangesAsync(cancellationToken);
        return MeDto.From(user);
    }

    /// <summary>
    /// Applies each user's last-seen privacy for this caller: "contacts" are users who share a chat
    /// with them. A user always sees their own.
    /// </summary>
    private async Task<List<UserDto>> ToDtosAsync(Guid callerId, IReadOnlyList<User> users, CancellationToken cancellationToken)
    {
        var ids = users.Select(u => u.Id).ToList();
        var contactIds = users.Any(u => u.LastSeenVisibility == LastSeenVisibility.Contacts)
            ? await ContactsAmongAsync(callerId, ids, cancellationToken)
            : [];
        var online = await presence.OnlineAmongAsync(ids);
        return users.Select(user =>
        {
            var visible = user.Id == callerId || user.LastSeenVisibility switch
            {
                LastSeenVisibility.Everyone => true,
                LastSeenVisibility.Contacts => contactIds.Contains(user.Id),
                _ => false,
            };
            return new UserDto(
                user.Id, user.UserName, user.DisplayName, Avatars.UrlOf(user.AvatarFileId), user.About,
                visible ? online.Contains(user.Id) : null,
                visible ? user.LastSeenAt : null);
        }).ToList();
    }

    private async Task<HashSet<Guid>> ContactsAmongAsync(Guid callerId, List<Guid> userIds, CancellationToken cancellationToken) =>
        (await db.ChatMembers
            .Where(other => userIds.Contains(other.UserId)
                && db.ChatMembers.Any(mine => mine.ChatId == other.ChatId && mine.UserId == callerId))
            .Select(other => other.UserId)
            .Distinct()
            .ToListAsync(cancellationToken)).ToHashSet();

    private Task<bool> IsOwnImageAsync(Guid callerId, Guid fileId, CancellationToken cancellationToken) =>
        db.Files.AnyAsync(f => f.Id == fileId && f.UploaderId == callerId && f.DeletedAt == null && f.ContentType.StartsWith("image/"), cancellationToken);
}
