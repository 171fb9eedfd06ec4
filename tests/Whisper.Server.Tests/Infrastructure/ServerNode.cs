using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Whisper.Server.Auth;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// What a node runs on. The data directory (SQLite file, generated keys, local files) belongs to the
/// node and outlives its process, so a restarted node finds everything its predecessor stored.
/// </summary>
public sealed record NodeSetup
{
    /// <summary>A database on the test script's PostgreSQL instance; null runs on a SQLite file in the data directory.</summary>
    public string? PostgresDatabase { get; init; }

    /// <summary>A Redis connection string (backplane, presence, cluster events); null keeps all of it in process.</summary>
    public string? Redis { get; init; }

    /// <summary>What every node of a cluster shares; empty leaves the node to generate one in its data directory.</summary>
    public string SigningKey { get; init; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public TimeSpan PresenceExpiry { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Further configuration as environment variables (<c>Whisper__Realtime__SendTimeout</c>).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>What this pass of the suite runs on: SQLite alone, or PostgreSQL and Redis in the scaled-out pass.</summary>
    public static NodeSetup ForThisPass() => WhisperServer.Postgres is null
        ? new NodeSetup()
        : new NodeSetup { PostgresDatabase = $"whisper_node_{Guid.NewGuid():N}", Redis = Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS") is { Length: > 0 } redis ? redis : null };

    public string Describe() => (PostgresDatabase, Redis) switch
    {
        (null, null) => "SQLite",
        (null, _) => "SQLite + Redis",
        (_, null) => "PostgreSQL",
        _ => "PostgreSQL + Redis",
    };
}

/// <summary>
/// One Whisper node as its own process, configured through the environment as an operator would:
/// the built server on loopback, on SQLite in its data directory or on the shared PostgreSQL and Redis.
/// It can be killed and started again on the same address and data, as a crashed server is restarted.
/// </summary>
public sealed class ServerNode : IAsyncDisposable
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "whisper-tests", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> lastOutput = new();
    private Process? process;

    /// <summary>Whether the test killed the current process (<see cref="Kill"/>), as opposed to its exiting by itself.</summary>
    private bool killed;

    private ServerNode(NodeSetup setup)
    {
        Setup = setup;
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}/");
    }

    public Uri BaseAddress { get; }

    public NodeSetup Setup { get; }

    /// <summary>The id of the current server process (for reading its memory from /proc).</summary>
    public int ProcessId => process!.Id;

    /// <summary>The last 40 lines the node wrote (warnings and errors, unless its settings ask for more).</summary>
    public IReadOnlyList<string> LastOutput => [.. lastOutput];

    /// <summary>Whether the node's process is alive: one whose host stopped (a background service's failure) is not.</summary>
    public bool IsRunning => process is { HasExited: false };

    /// <summary>Whether the test script started PostgreSQL and Redis (its scaled-out pass).</summary>
    public static bool ClusterAvailable =>
        Environment.GetEnvironmentVariable("WHISPER_TEST_POSTGRES") is { Length: > 0 } && Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS") is { Length: > 0 };

    /// <summary>Skips the calling test outside the scaled-out pass: it needs PostgreSQL and Redis.</summary>
    public static void RequireCluster() =>
        Assert.SkipUnless(ClusterAvailable, "Runs in test.sh's scaled-out pass, which starts PostgreSQL and Redis.");

    /// <summary>A cluster member: PostgreSQL, Redis (the test script's unless given) and a shared signing key.</summary>
    public static Task<ServerNode> StartAsync(string database, string signingKey, TimeSpan presenceExpiry, string? redis = null) =>
        StartAsync(new NodeSetup
        {
            PostgresDatabase = database,
            Redis = redis ?? Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS")!,
            SigningKey = signingKey,
            PresenceExpiry = presenceExpiry,
        });

    public static async Task<ServerNode> StartAsync(NodeSetup setup)
    {
        var node = new ServerNode(setup);
        try
        {
            await node.StartProcessAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>Starts the server again on the same address and data, after <see cref="Kill"/> or a crash, and waits until it is ready.</summary>
    public async Task RestartAsync()
    {
        await StopProcessAsync();
        await StartProcessAsync();
    }

    private async Task StartProcessAsync()
    {
        var serverDll = ServerAssembly();
        var start = new ProcessStartInfo("dotnet", [serverDll])
        {
            WorkingDirectory = Path.GetDirectoryName(serverDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = BaseAddress.ToString(),
            ["Whisper__Jwt__SigningKey"] = Setup.SigningKey,
            ["Whisper__DataDirectory"] = dataDirectory,
            ["Whisper__RateLimits__Enabled"] = "false",
            ["Whisper__Realtime__PresenceExpiry"] = Setup.PresenceExpiry.ToString("c"),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // Always set, so that the suite's own environment (test.sh's scaled-out pass sets Whisper__Redis for
        // the in-process servers) never adds to a node what its setup leaves out.
        environment["Whisper__Database__Provider"] = Setup.PostgresDatabase is null ? "Sqlite" : "Postgres";
        environment["Whisper__Redis"] = Setup.Redis ?? "";
        if (Setup.PostgresDatabase is { } database)
        {
            environment["ConnectionStrings__Whisper"] = $"{Environment.GetEnvironmentVariable("WHISPER_TEST_POSTGRES")};Database={database}";
        }
        else
        {
            // SQLite's default place: whisper.db in the data directory, which outlives the process.
            start.Environment.Remove("ConnectionStrings__Whisper");
        }

        foreach (var (key, value) in environment.Concat(Setup.Settings))
        {
            start.Environment[key] = value;
        }

        process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => Remember(line.Data);
        process.ErrorDataReceived += (_, line) => Remember(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A process start (and, for the first node, creating and migrating a database) on a loaded machine
        // takes longer than an event: it gets its own, still bounded, wait.
        await Waits.UntilAsync(IsReadyAsync, $"node {BaseAddress} to be ready", TimeSpan.FromSeconds(60));
    }

    /// <summary>The last lines the server wrote, to say why a node died or a test failed.</summary>
    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lastOutput.Enqueue(line);
        while (lastOutput.Count > 40 && lastOutput.TryDequeue(out _))
        {
        }
    }

    public HttpClient Client(string? accessToken = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = WhisperServer.RequestTimeout };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    public async Task<TestUser> RegisterAsync()
    {
        var response = await Client().PostAsJsonAsync("/api/register", new { username = Names.Unique(), password = TestUser.Password });
        await response.ShouldBe(HttpStatusCode.Created);
        var session = await response.ReadAsync<SessionDto>();
        return new TestUser(Client(session.AccessToken), session);
    }

    /// <summary>A user's client on this node (any node serves any user).</summary>
    public TestUser As(TestUser user) => user with { Http = Client(user.Session.AccessToken) };

    /// <summary>Ends the process at once (SIGKILL), as a crash or a pulled plug would.</summary>
    public void Kill()
    {
        killed = true;
        process!.Kill(entireProcessTree: true);
    }

    /// <summary>The server process's resident memory, from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{ProcessId}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        // "VmRSS:	  123456 kB"
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// A gauge or counter from the node's Prometheus endpoint (/metrics), summed over its labels; null
    /// while the node has not recorded it yet.
    /// </summary>
    public async Task<double?> MetricAsync(string name)
    {
        using var client = Client();
        var text = await client.GetStringAsync("/metrics");
        var values = text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
            .Select(line => double.Parse(line[(line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : name.Length)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        return values.Count > 0 ? values.Sum() : null;
    }

    private async Task<bool> IsReadyAsync()
    {
        if (process?.HasExited == true)
        {
            throw new InvalidOperationException($"Node {BaseAddress} exited with code {process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, lastOutput)}");
        }

        try
        {
            return await ReadyAsync();
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether /readyz says ready right now. A node waiting on a dependency that went away may take a
    /// while to answer: no answer within 10 s counts as not ready.
    /// </summary>
    public async Task<bool> ReadyAsync() => await ReadinessAsync(TimeSpan.FromSeconds(10)) is { } status && (int)status < 300;

    /// <summary>What /readyz answers within <paramref name="timeout"/>, or null when it does not answer in time.</summary>
    public async Task<HttpStatusCode?> ReadinessAsync(TimeSpan timeout)
    {
        using var client = Client();
        client.Timeout = timeout;
        try
        {
            return (await client.GetAsync("/readyz")).StatusCode;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// A free port below Linux's ephemeral range (32768-60999): a port from that range, as port 0 would give,
    /// can be taken by an outgoing connection (a load's clients reconnecting) while a killed node is down,
    /// and the node could not listen on it again.
    /// </summary>
    internal static int FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20000, 32768);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another one.
            }
        }

        throw new InvalidOperationException("No free port between 20000 and 32767 in 100 tries.");
    }

    /// <summary>The folder that holds Whisper.slnx, above the tests' build output.</summary>
    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Whisper.slnx")))
        {
            directory = directory.Parent;
        }

        return directory!.FullName;
    }

    /// <summary>The server built alongside these tests, in the same configuration.</summary>
    private static string ServerAssembly()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(RepositoryRoot(), "src", "Whisper.Server", "bin", configuration, "net10.0", "Whisper.Server.dll");
    }

    private async Task StopProcessAsync()
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        else if (!killed)
        {
            // A node that stopped by itself (a crash, or its host stopping on a background service's failure)
            // ends its clients' connections; the test that fails on that says why here.
            TestContext.Current.TestOutputHelper?.WriteLine($"Node {BaseAddress} exited by itself with code {process.ExitCode}.");
        }

        killed = false;
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessAsync();
        // Shown with a failed test's output: what the node logged last (warnings and errors, unless a test asks for more).
        TestContext.Current.TestOutputHelper?.WriteLine($"Node {BaseAddress}'s last output:{Environment.NewLine}{string.Join(Environment.NewLine, lastOutput)}");
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Already gone, or a file still held open: the temp folder is cleaned anyway.
        }
    }
}

/// <summary>Two nodes sharing one PostgreSQL database, one Redis and one signing key.</summary>
public class Cluster : IAsyncLifetime
{
    public ServerNode A { get; private set; } = null!;

    public ServerNode B { get; private set; } = null!;

    public static readonly TimeSpan PresenceExpiry = TimeSpan.FromSeconds(3);

    public async ValueTask InitializeAsync()
    {
        if (!ServerNode.ClusterAvailable)
        {
            return;
        }

        var database = $"whisper_cluster_{Guid.NewGuid():N}";
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        // One after the other: the first creates and migrates the database.
        A = await ServerNode.StartAsync(database, key, PresenceExpiry);
        B = await ServerNode.StartAsync(database, key, PresenceExpiry);
    }

    public async ValueTask DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }

        if (B is not null)
        {
            await B.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class FailoverCluster : Cluster;
