using System.Diagnostics;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// A real, tiny file system (tmpfs) mounted over a folder, to fill a disk or make it read-only
/// without touching the machine's own disks. Mounting needs root; where it is refused the test says so.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts a file system of <paramref name="kibibytes"/> over <paramref name="path"/>, or skips the test.</summary>
    public static SmallDisk Mount(string path, int kibibytes, bool readOnly = false)
    {
        Directory.CreateDirectory(path);
        var (exitCode, error) = Run("mount", "-t", "tmpfs", "-o", $"size={kibibytes}k,mode=0777{(readOnly ? ",ro" : "")}", "tmpfs", path);
        Assert.SkipWhen(exitCode != 0, $"Mounting a small file system needs root: {error}");
        return new SmallDisk(path);
    }

    /// <summary>Makes the mounted file system writable again, as an operator who freed or fixed the disk would.</summary>
    public void MakeWritable() => Assert.Equal(0, Run("mount", "-o", "remount,rw", Path).ExitCode);

    public IReadOnlyList<string> Files() =>
        Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Select(file => System.IO.Path.GetRelativePath(Path, file)).ToList();

    public void Dispose() => Run("umount", "-l", Path);

    private static (int ExitCode, string Error) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            return process.WaitForExit(TimeSpan.FromSeconds(10)) ? (process.ExitCode, error) : (-1, $"{command} did not finish");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (-1, exception.Message);
        }
    }
}
