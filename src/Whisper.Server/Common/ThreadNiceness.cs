using System.Runtime.InteropServices;

namespace Whisper.Server.Common;

/// <summary>
/// The calling thread's scheduling priority on Linux, its nice value: -20 (the largest share of a busy CPU) to 19.
/// .NET's <see cref="Thread.Priority"/> does nothing on Linux; but there a thread is a task of its own, and
/// <c>setpriority</c> given its id sets that thread's nice value alone.
/// </summary>
internal static class ThreadNiceness
{
    private const int PrioProcess = 0;

    /// <summary>
    /// Sets the calling thread's nice value; answers the system's error number when it refuses (EPERM or EACCES:
    /// below 0 needs <c>CAP_SYS_NICE</c>, which root has and containers often drop, or an <c>RLIMIT_NICE</c> that allows
    /// it), and false with no error on other systems.
    /// </summary>
    public static bool TrySetForCurrentThread(int nice, out int error)
    {
        error = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (setpriority(PrioProcess, gettid(), nice) == 0)
        {
            return true;
        }

        error = Marshal.GetLastPInvokeError();
        return false;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);

    [DllImport("libc")]
    private static extern int gettid();
}
