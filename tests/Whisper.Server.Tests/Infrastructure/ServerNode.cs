using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Whisper.Server.Auth;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// One Whisper node as its own process, configured through the environment as an operator would:
/// the built server on loopback, sharing PostgreSQL, Redis and the signing key with its peers.
/// </summary>
public sealed class ServerNode : IAsyncDisposable
{
    private readonly Process process;
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "whisper-tests", Guid.NewGuid().ToString("N"));

    private ServerNode(Process process, Uri baseAddress)
    {
        this.process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Whether the test script started PostgreSQL and Redis (its scaled-out pass).</summary>
    public static bool ClusterAvailable =>
        Environment.GetEnvironmentVariable("WHISPER_TEST_POSTGRES") is { Length: > 0 } && Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS") is { Length: > 0 };

    public static async Task<ServerNode> StartAsync(string database, string signingKey, TimeSpan presenceExpiry, string? redis = null)
    {
        var port = FreePort();
        var serverDll = ServerAssembly();
        var start = new ProcessStartInfo("dotnet", [serverDll])
        {
            WorkingDirectory = Path.GetDirectoryName(serverDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var node = new ServerNode(null!, new Uri($"http://127.0.0.1:{port}/"));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = node.BaseAddress.ToString(),
            ["Whisper__Database__Provider"] = "Postgres",
            ["ConnectionStrings__Whisper"] = $"{Environment.GetEnvironmentVariable("WHISPER_TEST_POSTGRES")};Database={database}",
            ["Whisper__Redis"] = redis ?? Environment.GetEnvironmentVariable("WHISPER_TEST_REDIS")!,
            ["Whisper__Jwt__SigningKey"] = signingKey,
            ["Whisper__DataDirectory"] = node.dataDirectory,
            ["Whisper__RateLimits__Enabled"] = "false",
            ["Whisper__Realtime__PresenceExpiry"] = presenceExpiry.ToString("c"),
            ["Logging__LogLevel__Default"] = "Warning",
        })
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new ServerNode(process, node.BaseAddress);
        // A process start (and, for the first node, creating and migrating a database) on a loaded machine
        // takes longer than an event: it gets its own, still bounded, wait.
        await Waits.UntilAsync(async () => await started.IsReadyAsync(), $"node {node.BaseAddress} to be ready", TimeSpan.FromSeconds(60));
        return started;
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

    /// <summary>Ends the process at once, as a crash or a pulled plug would.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    private async Task<bool> IsReadyAsync()
    {
        if (process?.HasExited == true)
        {
            throw new InvalidOperationException($"Node {BaseAddress} exited with code {process.ExitCode}.");
        }

        try
        {
            using var client = Client();
            return (await client.GetAsync("/readyz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Whether /readyz says ready right now.</summary>
    public async Task<bool> ReadyAsync()
    {
        using var client = Client();
        return (await client.GetAsync("/readyz")).IsSuccessStatusCode;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The server built alongside these tests, in the same configuration.</summary>
    private static string ServerAssembly()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Whisper.slnx")))
        {
            directory = directory.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(directory!.FullName, "src", "Whisper.Server", "bin", configuration, "net10.0", "Whisper.Server.dll");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
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
