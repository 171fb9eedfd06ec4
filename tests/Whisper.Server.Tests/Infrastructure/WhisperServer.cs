using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Whisper.Server.Auth;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// The real Whisper host on real Kestrel (loopback, a free port) with its own SQLite file and data
/// directory. Tests talk to it only over HTTP, as any client would.
/// </summary>
public class WhisperServer : WebApplicationFactory<Program>
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "whisper-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> settings;

    public WhisperServer() : this(new Dictionary<string, string?>())
    {
    }

    /// <param name="overrides">Configuration on top of the test defaults (rate limits off, quiet logs).</param>
    public WhisperServer(IDictionary<string, string?> overrides)
    {
        settings = new Dictionary<string, string?>
        {
            ["Whisper:DataDirectory"] = dataDirectory,
            ["Whisper:RateLimits:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
        };
        if (Postgres is { } postgres)
        {
            // Each server gets a database of its own on the test script's private PostgreSQL instance.
            settings["Whisper:Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Whisper"] = $"{postgres};Database=whisper_{Guid.NewGuid():N}";
        }

        if (S3 is not null)
        {
            settings["Whisper:Storage:Bucket"] = bucket;
        }

        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.Single());
    }

    /// <summary>
    /// Set by test.sh for the second pass of the suite: a connection string (without database) of
    /// the private PostgreSQL instance it started. Unset: SQLite.
    /// </summary>
    public static string? Postgres { get; } = Environment.GetEnvironmentVariable("WHISPER_TEST_POSTGRES") is { Length: > 0 } value ? value : null;

    public static bool IsSqlite => Postgres is null;

    /// <summary>Set by test.sh's scaled-out pass: the S3-compatible server files go to (each test server has a bucket).</summary>
    public static string? S3 { get; } = Environment.GetEnvironmentVariable("WHISPER_TEST_S3") is { Length: > 0 } value ? value : null;

    private readonly string bucket = $"whisper-{Guid.NewGuid():N}"[..30];

    /// <summary>The keys of every stored file's bytes, wherever the server keeps them.</summary>
    public async Task<IReadOnlyList<string>> StoredObjectsAsync()
    {
        if (S3 is null)
        {
            var root = Path.Combine(dataDirectory, "files");
            return Directory.Exists(root)
                ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(path => Path.GetRelativePath(root, path)).ToList()
                : [];
        }

        using var s3 = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("S3RVER", "S3RVER"),
            new Amazon.S3.AmazonS3Config { ServiceURL = S3, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var listed = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket });
        return (listed.S3Objects ?? []).Select(o => o.Key).ToList();
    }

    /// <summary>Reads the server's store directly, for what the API deliberately does not show (hashes, deleted rows).</summary>
    public async Task<T> QueryStoreAsync<T>(Func<Data.WhisperDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<Data.WhisperDbContext>());
    }

    /// <summary>Where the server listens: loopback on a port the OS chose.</summary>
    public Uri BaseAddress { get; }

    public string DataDirectory => dataDirectory;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings));
    }

    /// <summary>Every wait on the server is bounded: no request may hang a test run.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A client with no credentials.</summary>
    public HttpClient Anonymous()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = BaseAddress });
        client.Timeout = RequestTimeout;
        return client;
    }

    /// <summary>Registers a new, uniquely named user and returns a client signed in as them.</summary>
    public async Task<TestUser> RegisterAsync(string? name = null, string? email = null, string? displayName = null)
    {
        var username = name ?? Names.Unique();
        var client = Anonymous();
        var response = await client.PostAsJsonAsync("/api/register", new { username, password = TestUser.Password, displayName, email }, Json.Options);
        await response.ShouldBe(System.Net.HttpStatusCode.Created);
        var session = (await response.Content.ReadFromJsonAsync<SessionDto>(Json.Options))!;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
        return new TestUser(client, session);
    }

    /// <summary>Registers several users at once.</summary>
    public async Task<TestUser[]> RegisterManyAsync(int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => RegisterAsync()));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open is cleaned with the temp folder.
            }
        }
    }
}

public static class Names
{
    /// <summary>A username no other test uses: tests share servers and run in parallel.</summary>
    public static string Unique(string prefix = "u") => prefix + Guid.NewGuid().ToString("N")[..14];
}
