namespace Whisper.Client;

// The wire contract (shared/API.md) as seen by a client. Kept apart from the server's types on
// purpose: this is what any client can rely on, and tests through it check the JSON itself.

public enum ChatType { Direct, Group }

public enum ChatRole { Member, Admin, Owner }

public enum MessageType { Text, Image, Video, Audio, File, System }

public enum ReceiptStatus { Sent, Delivered, Read }

public enum LastSeenVisibility { Everyone, Contacts, Nobody }

public sealed record Session(string AccessToken, string RefreshToken, DateTime ExpiresAt, Me User);

public sealed record Me(Guid Id, string Username, string DisplayName, string? Email, string? About, string? AvatarUrl, LastSeenVisibility LastSeenVisibility, DateTime CreatedAt);

public sealed record User(Guid Id, string Username, string DisplayName, string? AvatarUrl, string? About, bool? Online, DateTime? LastSeenAt);

public sealed record LastSeen(Guid UserId, bool? Online, DateTime? LastSeenAt);

public sealed record ChatMember(Guid UserId, string Username, string DisplayName, string? AvatarUrl, ChatRole Role, DateTime JoinedAt);

public sealed record Chat(
    Guid Id, ChatType Type, string? Name, string? AvatarUrl, DateTime CreatedAt, DateTime UpdatedAt, long LastSeq,
    int UnreadCount, Message? LastMessage, ChatRole MyRole, IReadOnlyList<ChatMember> Members);

public sealed record FileInfo(Guid Id, Guid ChatId, Guid UploaderId, string Name, string ContentType, long Size, string Url, DateTime CreatedAt);

public sealed record Message(
    Guid Id, Guid ChatId, long Seq, Guid SenderId, MessageType Type, string? Content, FileInfo? File, Guid? ReplyToId,
    string? ClientMessageId, DateTime CreatedAt, DateTime? EditedAt, DateTime? DeletedAt, ReceiptStatus Status);

public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore);

public sealed record RecipientStatus(Guid UserId, ReceiptStatus Status, DateTime? DeliveredAt, DateTime? ReadAt);

public sealed record MessageStatus(Guid MessageId, ReceiptStatus Status, IReadOnlyList<RecipientStatus> Recipients);

public sealed record NewMessage(string? Content = null, string? ClientMessageId = null, MessageType? Type = null, Guid? FileId = null, Guid? ReplyToId = null);

public sealed record ProfileUpdate(string? DisplayName = null, string? About = null, Guid? AvatarFileId = null, LastSeenVisibility? LastSeenVisibility = null);

// Hub events.

public sealed record ReceiptUpdate(Guid ChatId, Guid UserId, ReceiptStatus Status, long Seq, DateTime At);

public sealed record PresenceUpdate(Guid UserId, bool Online, DateTime? LastSeenAt);

public sealed record Typing(Guid ChatId, Guid UserId);

public sealed record MemberRemoval(Guid ChatId, Guid UserId);
