using Whisper.Server.Data;

namespace Whisper.Server.Users;

/// <summary>The caller's own user, with private fields.</summary>
public sealed record MeDto(
    Guid Id, string Username, string DisplayName, string? Email, string? About, string? AvatarUrl,
    LastSeenVisibility LastSeenVisibility, DateTime CreatedAt)
{
    public static MeDto From(User user) => new(
        user.Id, user.UserName, user.DisplayName, user.Email, user.About, Avatars.UrlOf(user.AvatarFileId),
        user.LastSeenVisibility, user.CreatedAt);
}

/// <summary>Another user as anyone may see them; online and lastSeenAt are null where privacy hides them.</summary>
public sealed record UserDto(Guid Id, string Username, string DisplayName, string? AvatarUrl, string? About, bool? Online, DateTime? LastSeenAt);

public sealed record LastSeenDto(Guid UserId, bool? Online, DateTime? LastSeenAt);

public sealed record UpdateUserRequest(string? DisplayName, string? About, Guid? AvatarFileId, LastSeenVisibility? LastSeenVisibility);

public static class Avatars
{
    public static string? UrlOf(Guid? fileId) => fileId is { } id ? $"/api/files/{id}" : null;
}
