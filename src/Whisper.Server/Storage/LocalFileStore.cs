using System.Buffers;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Storage;

/// <summary>Files under <c>{DataDirectory}/files</c>; written to a temporary file and renamed, so no partial file is ever visible.</summary>
public sealed class LocalFileStore(IOptions<WhisperOptions> options) : IFileStore
{
    private readonly string root = Path.Combine(options.Value.FullDataDirectory, "files");

    public async Task SaveAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var temporary = Path.Combine(root, "incoming", $"{Guid.NewGuid():N}.part");
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        // A failing read is the client's and propagates as it is; a failing write is ours.
        var reading = false;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(temporary)!);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                while (true)
                {
                    reading = true;
                    var read = await content.ReadAsync(buffer, cancellationToken);
                    reading = false;
                    if (read == 0)
                    {
                        break;
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                file.Flush(flushToDisk: true);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temporary, path);
        }
        catch (Exception exception) when (!reading && exception is IOException or UnauthorizedAccessException)
        {
            throw FileStoreException.IsOutOfSpace(exception)
                ? new FileStoreException("The file store is out of space.", outOfSpace: true, exception)
                : new FileStoreException("The file store cannot be written.", outOfSpace: false, exception);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            DeleteQuietly(temporary);
        }
    }

    /// <summary>Removes a temporary file; on a full or read-only disk there may be nothing to remove, or no way to.</summary>
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous));
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FileStoreException("The file store cannot be read.", outOfSpace: false, exception);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(root, key));
        // Keys are generated, but a store never trusts its input with the file system.
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException("The key leaves the file store.", nameof(key));
        }

        return path;
    }
}
