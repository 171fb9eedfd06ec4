namespace Whisper.Server.Tests.Security;

/// <summary>
/// One markdown row per hostile-input test family (family, cases tried, failures), appended to the file
/// named by WHISPER_SECURITY_REPORT when it is set, and shown in the test output. (The fault-injection
/// tests keep their own table under WHISPER_RELIABILITY_REPORT.)
/// </summary>
public static class SecurityReport
{
    public const string Variable = "WHISPER_SECURITY_REPORT";

    private static readonly Lock FileLock = new();

    public static string Row(string family, int tried, int failures) => $"| {family} | {tried} | {failures} |";

    public static void Write(string family, int tried, int failures)
    {
        var row = Row(family, tried, failures);
        // Inside a test the row goes to its output; from a fixture's cleanup, to the runner's diagnostic messages.
        TestContext.Current.TestOutputHelper?.WriteLine(row);
        TestContext.Current.SendDiagnosticMessage(row);
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path)
        {
            lock (FileLock)
            {
                File.AppendAllText(path, row + Environment.NewLine);
            }
        }
    }
}

/// <summary>Counts a family's cases across the tests that share it; thread-safe, since test classes run in parallel.</summary>
public sealed class CaseTally
{
    private int tried;
    private int failures;

    public int Tried => tried;

    public int Failures => failures;

    /// <summary>Runs one case, counting it, and its failure if it throws (the exception still fails the test).</summary>
    public async Task RunAsync(Func<Task> @case)
    {
        Interlocked.Increment(ref tried);
        try
        {
            await @case();
        }
        catch
        {
            Interlocked.Increment(ref failures);
            throw;
        }
    }

    public void Add(int casesTried, int casesFailed)
    {
        Interlocked.Add(ref tried, casesTried);
        Interlocked.Add(ref failures, casesFailed);
    }
}
