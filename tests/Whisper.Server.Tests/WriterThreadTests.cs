using Whisper.Server.Common;
using Whisper.Server.Messages;
using Whisper.Server.Data;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>
/// The group-commit writers run on threads of their own at a raised priority (Linux nice -10), where the system
/// allows it: a process with CAP_SYS_NICE (root's, unless a container dropped it) may, one without may not, and the
/// writer then says so in the log. The server nodes inherit the test process's capabilities.
/// </summary>
public sealed class WriterThreadTests
{
    private static readonly bool MayRaisePriority = HasCapability(23); // CAP_SYS_NICE

    [Fact]
    public async Task The_writers_run_on_threads_of_their_own_at_a_raised_priority_and_store_messages()
    {
        await using var node = await ServerNode.StartAsync(NodeSetup.ForThisPass());
        var (alice, bob) = (await node.RegisterAsync(), await node.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await alice.SendAsync(chat.Id, "stored by the writer thread");

        var threads = LinuxTask.Of(node.ProcessId);
        // Linux keeps the first 15 bytes of a thread's name.
        var messages = Assert.Single(threads, t => t.Name == "messages writer");
        var receipts = Assert.Single(threads, t => t.Name == "receipt advance");
        var expected = MayRaisePriority ? GroupCommitWriter<object>.WriterNice : 0;
        Assert.Equal(expected, messages.Nice);
        Assert.Equal(expected, receipts.Nice);
        // Nothing else was raised: the request threads keep the default.
        Assert.All(threads.Except([messages, receipts]), t => Assert.Equal(0, t.Nice));
        Assert.Equal(MayRaisePriority, !node.LastOutput.Any(line => line.Contains("runs at the default priority", StringComparison.Ordinal)));
        Assert.Single((await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items);
    }

    [Fact]
    public async Task A_thread_sets_its_own_niceness_and_no_other_threads()
    {
        var (set, error, nice) = await OnNewThreadAsync(() =>
        {
            var set = ThreadNiceness.TrySetForCurrentThread(5, out var error);
            return (set, error, LinuxTask.Current().Nice);
        });

        // A higher nice value, a lower priority, needs no privilege.
        Assert.True(set);
        Assert.Equal(0, error);
        Assert.Equal(5, nice);
        Assert.Equal(0, LinuxTask.Current().Nice);

        var (raised, refusal, raisedNice) = await OnNewThreadAsync(() =>
        {
            var raised = ThreadNiceness.TrySetForCurrentThread(-3, out var refusal);
            return (raised, refusal, LinuxTask.Current().Nice);
        });
        Assert.Equal(MayRaisePriority, raised);
        Assert.Equal(raised ? -3 : 0, raisedNice);
        // EPERM or EACCES when refused.
        Assert.Contains(refusal, raised ? [0] : new[] { 1, 13 });
    }

    /// <summary>Whether the process's effective capabilities (the hexadecimal mask of /proc/self/status) hold the given one.</summary>
    private static bool HasCapability(int capability)
    {
        var mask = File.ReadLines("/proc/self/status").Single(line => line.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        return (ulong.Parse(mask, System.Globalization.NumberStyles.HexNumber) & (1UL << capability)) != 0;
    }

    private static Task<T> OnNewThreadAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() => done.SetResult(work())).Start();
        return done.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>A thread of a process as Linux sees it (a task), from /proc.</summary>
    private sealed record LinuxTask(int Id, string Name, int Nice)
    {
        public static List<LinuxTask> Of(int processId) =>
            Directory.GetDirectories($"/proc/{processId}/task").Select(path => Read($"{path}/stat")).OfType<LinuxTask>().ToList();

        public static LinuxTask Current() => Read("/proc/thread-self/stat")!;

        // "tid (name) state ppid ...": the name may hold spaces, so the fields are counted after its closing parenthesis;
        // the nice value is the 19th field.
        private static LinuxTask? Read(string statPath)
        {
            string stat;
            try
            {
                stat = File.ReadAllText(statPath);
            }
            catch (IOException)
            {
                return null; // the thread ended meanwhile
            }

            var (open, close) = (stat.IndexOf('('), stat.LastIndexOf(')'));
            var fields = stat[(close + 2)..].Split(' ');
            return new LinuxTask(int.Parse(stat[..(open - 1)]), stat[(open + 1)..close], int.Parse(fields[19 - 3]));
        }
    }
}
