using Whisper.Server.Data;
using Whisper.Server.Files;
using Whisper.Server.Receipts;

namespace Whisper.Server.Messages;

/// <summary><c>status</c> is the least advanced receipt over the message's recipients.</summary>
public sealed record MessageDto(
    Guid Id,
    Guid ChatId,
    long Seq,
    Guid SenderId,
    MessageType Type,
    string? Content,
    FileDto? File,
    Guid? ReplyToId,
    string? ClientMessageId,
    DateTime CreatedAt,
    DateTime? EditedAt,
    DateTime? DeletedAt,
    ReceiptStatus Status)
{
    /// <summary>Maps a message loaded with its <see cref="Message.File"/>, given the chat's members.</summary>
    public static MessageDto From(Message message, IEnumerable<Watermark> members) => new(
        message.Id,
        message.ChatId,
        message.Seq,
        message.SenderId,
        message.Type,
        message.Content,
        message.File is { DeletedAt: null } file ? FileDto.From(file) : null,
        message.ReplyToId,
        message.ClientMessageId,
        message.CreatedAt,
        message.EditedAt,
        message.DeletedAt,
        Watermark.Aggregate(message.Seq, message.SenderId, members));
}

public sealed record SendMessageRequest(string? ClientMessageId, MessageType? Type, string? Content, Guid? FileId, Guid? ReplyToId);

public sealed record EditMessageRequest(string? Content);

/// <summary>The stored message and whether this call stored it (false: an idempotent retry).</summary>
public sealed record SendOutcome(MessageDto Message, bool Created);
