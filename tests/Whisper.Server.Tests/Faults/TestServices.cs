using System.Diagnostics;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// Takes the test script's PostgreSQL or Redis away and brings it back on the same port and data
/// (tests/service-ctl.sh), as an operator's restart or a crashed dependency would; or stalls Redis, as an
/// overloaded one would.
/// </summary>
public static class TestServices
{
    public static Task StopAsync(string service) => RunAsync("stop", service);

    public static Task StartAsync(string service) => RunAsync("start", service);

    /// <summary>Stalls Redis (SIGSTOP): its connections stay open but nothing answers, so commands time out.</summary>
    public static Task PauseRedisAsync() => RunAsync("pause", "redis");

    public static Task ResumeRedisAsync() => RunAsync("resume", "redis");

    private static async Task RunAsync(string action, string service)
    {
        var script = Path.Combine(ServerNode.RepositoryRoot(), "tests", "service-ctl.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, action, service])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        await Task.WhenAll(output, errors).WaitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"service-ctl.sh {action} {service} exited with {process.ExitCode}: {await output}{await errors}");
    }
}
