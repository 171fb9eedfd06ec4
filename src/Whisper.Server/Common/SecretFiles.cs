namespace Whisper.Server.Common;

/// <summary>Generated secrets kept in the data directory (signing and VAPID keys).</summary>
public static class SecretFiles
{
    /// <summary>
    /// The file's content, or <paramref name="create"/>'s written to a file only this user can read.
    /// Written beside and then moved into place, so no reader sees half a key; when another process
    /// creates it first, its key is used, so all sign alike.
    /// </summary>
    public static string ReadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var content = create();
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
            return content;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return File.ReadAllText(path);
        }
    }
}
