namespace Whisper.Server.Storage;

/// <summary>
/// The store could not keep or serve bytes: the disk is full, the data directory is not writable,
/// the object store is unreachable. Stores throw it so callers can tell a failure of ours (a 5xx
/// answer) from a bad upload (a 4xx answer) without knowing how each store works.
/// </summary>
public sealed class FileStoreException(string message, bool outOfSpace, Exception inner) : IOException(message, inner)
{
    /// <summary>No room left: the disk or the quota is full (answered with 507 Insufficient Storage).</summary>
    public bool OutOfSpace { get; } = outOfSpace;

    /// <summary>ENOSPC and EDQUOT on Unix; ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL on Windows.</summary>
    public static bool IsOutOfSpace(Exception exception) =>
        exception is IOException { HResult: var code } && (code & 0xFFFF) is 28 or 122 or 0x27 or 0x70;
}
