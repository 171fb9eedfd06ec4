using Whisper.Server.Data;

namespace Whisper.Server.Files;

public sealed record FileDto(Guid Id, Guid ChatId, Guid UploaderId, string Name, string ContentType, long Size, string Url, DateTime CreatedAt)
{
    public static FileDto From(StoredFile file) =>
        new(file.Id, file.ChatId, file.UploaderId, file.Name, file.ContentType, file.Size, $"/api/files/{file.Id}", file.CreatedAt);
}
