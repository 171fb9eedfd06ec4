using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Whisper.Server.Data;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class OperationsTests(SharedServer server)
{
    [Fact]
    public async Task Health_and_readiness_answer_without_a_token()
    {
        await (await server.Anonymous().GetAsync("/healthz")).ShouldBe(HttpStatusCode.OK);
        await (await server.Anonymous().GetAsync("/readyz")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_api_path()
    {
        var document = JsonDocument.Parse(await server.Anonymous().GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();

        foreach (var path in new[]
        {
            "/api/register", "/api/login", "/api/refresh", "/api/logout", "/api/users/me", "/api/users", "/api/users/{id}",
            "/api/users/{id}/last-seen", "/api/chats", "/api/chats/{id}", "/api/chats/{id}/users", "/api/chats/{id}/users/{userId}",
            "/api/chats/{chatId}/messages", "/api/chats/{chatId}/messages/search", "/api/messages/{id}", "/api/messages/{id}/status",
            "/api/chats/{chatId}/files", "/api/files/{id}",
        })
        {
            Assert.Contains(path, paths);
        }

        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Bearer", out _));
        await (await server.Anonymous().GetAsync("/api-reference")).ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>
    /// On a server process of its own: meters are looked up by name across a process, so with the suite's
    /// many in-process servers an exporter could pick another server's (idle) counter.
    /// </summary>
    [Fact]
    public async Task Metrics_count_requests_sent_messages_and_the_writers_batches_and_show_the_runtimes_memory()
    {
        await using var node = await ServerNode.StartAsync(NodeSetup.ForThisPass());
        var (alice, bob) = (await node.RegisterAsync(), await node.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await alice.SendAsync(chat.Id, "counted");

        Assert.Equal(1, await node.MetricAsync("whisper_messages_sent_total"));
        var metrics = (await node.Client().GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(metrics, line => line.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(metrics, line => line.StartsWith("dotnet_process_memory_working_set_bytes", StringComparison.Ordinal));
        // The one message was stored in a batch of its own, and that batch took some time.
        Assert.Contains(metrics, line => line.StartsWith("whisper_writes_batch_size_sum{", StringComparison.Ordinal) && line.Contains("writes=\"messages\"") && line.EndsWith(" 1"));
        Assert.Contains(metrics, line => line.StartsWith("whisper_writes_duration_seconds_count{", StringComparison.Ordinal) && line.Contains("writes=\"messages\"") && line.EndsWith(" 1"));
    }

    [Theory]
    [InlineData("GET", "/api/does-not-exist")]
    [InlineData("GET", "/api/chats/not-a-guid")]
    [InlineData("GET", "/api/users/me/anything")]
    [InlineData("GET", "/api")]
    public async Task Unknown_api_paths_are_json_404s(string method, string path)
    {
        var user = await server.RegisterAsync();

        var response = await user.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await response.ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_wrong_method_on_a_known_path_is_a_405_problem()
    {
        var user = await server.RegisterAsync();

        var response = await user.Http.PatchAsync("/api/users/me", null);

        await response.ShouldBeProblem(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task The_signing_key_lives_in_the_data_directory()
    {
        // The key is made when first needed: signing a session.
        await server.RegisterAsync();

        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "jwt-signing-key")));
    }

    [Fact]
    public void Configuration_files_are_read_at_start_and_not_watched()
    {
        // A watch covers the whole content root, where the default data directory lies: every write would wake it.
        var files = ((IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>()).Providers
            .OfType<FileConfigurationProvider>().ToList();

        Assert.Contains(files, file => file.Source.Path == "appsettings.json");
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, file.Source.Path));
    }

    [Fact]
    public async Task The_sqlite_database_lives_in_the_data_directory_in_wal_mode()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The embedded database only.");
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "whisper.db")));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "whisper.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_stored_message_reaches_the_sqlite_database_file_in_the_background_not_only_its_log()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The embedded database only.");
        // A server of its own: one message is far below the log's length at which the writers copy it themselves.
        await using var own = new WhisperServer();
        var (alice, bob) = (await own.RegisterAsync(), await own.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var marker = $"checkpoint-{Guid.NewGuid():N}";

        await alice.SendAsync(chat.Id, marker);

        // Committed rows live in the write-ahead log until a checkpoint copies their pages into the file.
        // Nothing announces a checkpoint, so the file is looked at every 50 ms, for 10 s at most.
        var database = Path.Combine(own.DataDirectory, "whisper.db");
        var needle = System.Text.Encoding.UTF8.GetBytes(marker);
        var copied = false;
        for (var look = 0; look < 200 && !copied; look++)
        {
            copied = (await ReadSharedAsync(database)).AsSpan().IndexOf(needle) >= 0;
            if (!copied)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(copied, "The message stayed in the write-ahead log for 10 s.");
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var bytes = new MemoryStream();
        await file.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    [Fact]
    public async Task Every_sqlite_connection_of_the_server_is_durable_waits_for_the_write_lock_and_journals_in_memory()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The embedded database only.");
        // Contexts come from one pool and native connections from another: the settings must hold on
        // connections reused from the pool and on new ones, opened one at a time and side by side.
        for (var round = 0; round < 2; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                await using var scope = server.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
                for (var open = 0; open < 3; open++)
                {
                    await db.Database.OpenConnectionAsync();
                    try
                    {
                        Assert.Equal(2L, await PragmaAsync(db, "synchronous"));
                        Assert.Equal(10_000L, await PragmaAsync(db, "busy_timeout"));
                        Assert.Equal(2L, await PragmaAsync(db, "temp_store")); // MEMORY
                        Assert.Equal(SqlitePragmas.AutoCheckpointPages, await PragmaAsync(db, "wal_autocheckpoint"));
                    }
                    finally
                    {
                        await db.Database.CloseConnectionAsync();
                    }
                }
            }));
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>
    /// Functions a connection carries are registered with SQLite at every open and removed at every close; Whisper's
    /// connections carry none, so a query's open and close cost no calls for them (SqlitePragmas.ConnectionCreating).
    /// </summary>
    [Fact]
    public async Task Sqlite_connections_of_the_server_carry_no_functions_to_register_on_every_open()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The embedded database only.");
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        Assert.False(await db.Users.AnyAsync(u => u.Id == Guid.Empty)); // EF's own queries still run without them
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "SELECT ef_add(1, 2)";
            var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => command.ExecuteScalarAsync());
            Assert.Contains("no such function", refused.Message);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<long?> PragmaAsync(WhisperDbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return (long?)await command.ExecuteScalarAsync();
    }
}

public sealed class WebClientTests(SharedServer server)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/chats/01a2082d-44e4-708c-8834-ef7632e3f53b")]
    public async Task The_web_client_is_served_for_its_own_routes(string path)
    {
        var response = await server.Anonymous().GetAsync(path);

        await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<div id=\"app\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_web_client_is_served_with_a_csp_that_allows_no_inline_script_and_no_framing()
    {
        var response = await server.Anonymous().GetAsync("/");

        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        var scripts = policy.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src", StringComparison.Ordinal));
        Assert.Equal("script-src 'self'", scripts);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }
}
