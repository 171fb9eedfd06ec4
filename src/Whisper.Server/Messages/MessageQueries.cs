using System.Linq.Expressions;
using Whisper.Server.Data;

namespace Whisper.Server.Messages;

public static class MessageQueries
{
    /// <summary>
    /// A message with its file, read as a projection: the same as <c>Include(m => m.File)</c> without tracking,
    /// but materialised inline, where an include builds a fix-up delegate for every row.
    /// </summary>
    public static readonly Expression<Func<Message, Message>> WithFile = m => new Message
    {
        Id = m.Id,
        ChatId = m.ChatId,
        Seq = m.Seq,
        SenderId = m.SenderId,
        Type = m.Type,
        Content = m.Content,
        FileId = m.FileId,
        ReplyToId = m.ReplyToId,
        ClientMessageId = m.ClientMessageId,
        CreatedAt = m.CreatedAt,
        EditedAt = m.EditedAt,
        DeletedAt = m.DeletedAt,
        File = m.File,
    };
}
