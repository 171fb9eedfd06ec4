using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Storage;

namespace Whisper.Server.Files;

public sealed partial class FileService(
    WhisperDbContext db, IFileStore store, IOptions<WhisperOptions> options, TimeProvider time, ILogger<FileService> logger)
{
    private static readonly Failure StoreUnavailable = Failure.Unavailable("The file store is not available. Try again later.");

    public long MaxBytes => options.Value.Files.MaxBytes;

    /// <summary>Checks membership before a single byte is read, then streams the upload into the store.</summary>
    public async Task<Result<Done>> CanUploadAsync(Guid callerId, Guid chatId, CancellationToken cancellationToken) =>
        (await db.MembershipAsync(chatId, callerId, cancellationToken)).Match<Result<Done>>(_ => Done.Value, failure => failure);

    public async Task<Result<FileDto>> UploadAsync(
        Guid callerId, Guid chatId, string? clientName, string? claimedContentType, Stream content, CancellationToken cancellationToken)
    {
        if ((await CanUploadAsync(callerId, chatId, cancellationToken)).Failure is { } failure)
        {
            return failure;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var id = Ids.New();
        var key = $"{now:yyyy}/{now:MM}/{id:N}";
        using var upload = new UploadStream(content, MaxBytes);
        try
        {
            await store.SaveAsync(key, upload, cancellationToken);
        }
        catch (FileTooLargeException exception)
        {
            return Failure.TooLarge(exception.Message);
        }
        catch (FileStoreException exception)
        {
            LogStoreFailure(exception, key);
            return exception.OutOfSpace ? Failure.OutOfStorage() : StoreUnavailable;
        }

        var file = new StoredFile
        {
            Id = id,
            ChatId = chatId,
            UploaderId = callerId,
            Name = FileNames.Clean(clientName),
            ContentType = ContentTypes.Decide(upload.Head, claimedContentType),
            Size = upload.BytesRead,
            StorageKey = key,
            Sha256 = upload.Sha256Hex(),
            CreatedAt = now,
        };
        db.Files.Add(file);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            await store.DeleteAsync(key, CancellationToken.None);
            throw;
        }

        return FileDto.From(file);
    }

    /// <summary>The chat's files, newest first; <paramref name="before"/> is the last seen <c>createdAt</c>.</summary>
    public async Task<Result<Page<FileDto>>> ListAsync(Guid callerId, Guid chatId, int? limit, DateTime? before, CancellationToken cancellationToken)
    {
        if ((await db.MembershipAsync(chatId, callerId, cancellationToken)).Failure is { } failure)
        {
            return failure;
        }

        var take = Limits.Clamp(limit, 30, 100);
        var query = db.Files.AsNoTracking().Where(f => f.ChatId == chatId && f.DeletedAt == null);
        if (before is { } cursor)
        {
            var utc = cursor.ToUniversalTime();
            query = query.Where(f => f.CreatedAt < utc);
        }

        var files = await query.OrderByDescending(f => f.CreatedAt).ThenByDescending(f => f.Id).Take(take + 1).ToListAsync(cancellationToken);
        return Page<FileDto>.FromOverfetch(files.Select(FileDto.From).ToList(), take);
    }

    /// <summary>Chat members may download a chat's files; anyone signed in may download a user's avatar.</summary>
    public async Task<Result<StoredFile>> FindDownloadableAsync(Guid callerId, Guid fileId, CancellationToken cancellationToken)
    {
        var file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Id == fileId && f.DeletedAt == null, cancellationToken);
        if (file is null)
        {
            return Failure.NotFound("File");
        }

        var visible = await db.ChatMembers.AnyAsync(m => m.ChatId == file.ChatId && m.UserId == callerId, cancellationToken)
            || await db.Users.AnyAsync(u => u.AvatarFileId == fileId, cancellationToken);
        return visible ? file : Failure.NotFound("File");
    }

    public async Task<Result<Stream>> OpenContentAsync(StoredFile file, CancellationToken cancellationToken)
    {
        Stream? content;
        try
        {
            content = await store.OpenReadAsync(file.StorageKey, cancellationToken);
        }
        catch (FileStoreException exception)
        {
            LogStoreFailure(exception, file.StorageKey);
            return StoreUnavailable;
        }

        if (content is null)
        {
            LogMissingBytes(file.Id, file.StorageKey);
            return Failure.NotFound("File");
        }

        return content;
    }

    /// <summary>The uploader or a group admin deletes a file; messages that carried it keep their text.</summary>
    public async Task<Result<Done>> DeleteAsync(Guid callerId, Guid fileId, CancellationToken cancellationToken)
    {
        var file = await db.Files.SingleOrDefaultAsync(f => f.Id == fileId && f.DeletedAt == null, cancellationToken);
        var membership = file is null ? Failure.NotFound("File") : await db.MembershipAsync(file.ChatId, callerId, cancellationToken);
        if (membership.Failure is not null)
        {
            return Failure.NotFound("File");
        }

        var isGroupAdmin = membership.Value!.IsAdmin()
            && await db.Chats.AnyAsync(c => c.Id == file!.ChatId && c.Type == ChatType.Group, cancellationToken);
        if (file!.UploaderId != callerId && !isGroupAdmin)
        {
            return Failure.Forbidden("Only the uploader or a group admin can delete this file.");
        }

        await MarkDeletedAsync([file], cancellationToken);
        return Done.Value;
    }

    /// <summary>Marks files deleted, then removes their bytes once that is committed.</summary>
    public async Task MarkDeletedAsync(IReadOnlyList<StoredFile> files, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var file in files)
        {
            file.DeletedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var file in files)
        {
            try
            {
                await store.DeleteAsync(file.StorageKey, CancellationToken.None);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The row already says deleted, so nobody can download it; the bytes are only orphaned.
                LogDeleteFailed(exception, file.Id);
            }
        }
    }

    [LoggerMessage(LogLevel.Error, "File {FileId} has no bytes at {StorageKey}")]
    private partial void LogMissingBytes(Guid fileId, string storageKey);

    [LoggerMessage(LogLevel.Error, "The file store failed on {StorageKey}")]
    private partial void LogStoreFailure(Exception exception, string storageKey);

    [LoggerMessage(LogLevel.Warning, "Could not remove the bytes of deleted file {FileId}")]
    private partial void LogDeleteFailed(Exception exception, Guid fileId);
}

public static class FileNames
{
    private const int MaxLength = 255;

    /// <summary>The client's name as harmless metadata: no directories, no control characters, bounded.</summary>
    public static string Clean(string? clientName)
    {
        var name = (clientName ?? "").Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..];
        name = new string(name.Where(c => !char.IsControl(c) && c != '"').ToArray()).Trim().Trim('.');
        if (name.Length > MaxLength)
        {
            var extension = Path.GetExtension(name);
            name = extension.Length < 20 ? name[..(MaxLength - extension.Length)] + extension : name[..MaxLength];
        }

        return name.Length == 0 ? "file" : name;
    }
}
