using Whisper.Server.Data;
using Whisper.Server.Messages;

namespace Whisper.Server.Chats;

public sealed record ChatMemberDto(Guid UserId, string Username, string DisplayName, string? AvatarUrl, ChatRole Role, DateTime JoinedAt);

/// <summary>
/// A chat as its member sees it. For a direct chat, <c>name</c> and <c>avatarUrl</c> are the other
/// person's. <c>unreadCount</c> counts other members' messages after the caller's read watermark.
/// </summary>
public sealed record ChatDto(
    Guid Id,
    ChatType Type,
    string? Name,
    string? AvatarUrl,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    long LastSeq,
    int UnreadCount,
    MessageDto? LastMessage,
    ChatRole MyRole,
    IReadOnlyList<ChatMemberDto> Members);

/// <summary><c>{type: "direct", userId}</c> or <c>{type: "group", name, memberIds}</c>.</summary>
public sealed record CreateChatRequest(ChatType? Type, Guid? UserId, string? Name, IReadOnlyList<Guid>? MemberIds);

public sealed record UpdateChatRequest(string? Name, Guid? AvatarFileId);

public sealed record AddMembersRequest(IReadOnlyList<Guid>? UserIds);

public sealed record SetRoleRequest(ChatRole? Role);
