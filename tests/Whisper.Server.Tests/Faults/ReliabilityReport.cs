using System.Globalization;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// One fault test's figures, as a markdown table row: messages sent (each once, however often retried),
/// acknowledged by the server, acknowledged but not stored (lost), stored more than once (duplicated), and
/// how long after the fault every client was served again.
/// </summary>
public sealed record ReliabilityFigures(
    string Fault, string RunsOn, long Sent, long Acknowledged, long Lost, long Duplicated, TimeSpan? Recovery, string Details);

/// <summary>
/// Writes each fault test's figures to the test output and, when <c>WHISPER_RELIABILITY_REPORT</c> names a
/// file (test.sh sets it for both server passes), appends them there as a row of one markdown table.
/// </summary>
public static class ReliabilityReport
{
    private const string Header =
        "| fault | runs on | sent | acknowledged | lost | duplicated | recovery | details |\n" +
        "|---|---|---:|---:|---:|---:|---:|---|\n";

    private static readonly Lock FileLock = new();

    public static void Write(ReliabilityFigures figures)
    {
        var recovery = figures.Recovery is { } time ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.00} s") : "–";
        var row = string.Create(CultureInfo.InvariantCulture,
            $"| {figures.Fault} | {figures.RunsOn} | {figures.Sent} | {figures.Acknowledged} | {figures.Lost} | {figures.Duplicated} | {recovery} | {figures.Details} |");
        TestContext.Current.TestOutputHelper?.WriteLine(Header + row);
        if (Environment.GetEnvironmentVariable("WHISPER_RELIABILITY_REPORT") is not { Length: > 0 } path)
        {
            return;
        }

        lock (FileLock)
        {
            File.AppendAllText(path, (File.Exists(path) ? "" : Header) + row + "\n");
        }
    }
}

/// <summary>Writes when each phase of a fault test ended to the test output, to see where its time goes.</summary>
public sealed class PhaseLog
{
    private readonly System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();

    public void Mark(string phase) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalSeconds,6:0.0} s  {phase}"));
}
