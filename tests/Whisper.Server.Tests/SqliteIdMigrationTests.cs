using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Whisper.Server.Auth;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Files;
using Whisper.Server.Messages;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>
/// SQLite stores ids as 16-byte blobs since the IdsAsBlobs migration; a database an earlier version wrote, with ids
/// as text, is converted when the server starts on it, and everything in it reads back as it did.
/// </summary>
public sealed class SqliteIdMigrationTests
{
    /// <summary>The last migration of the versions that stored ids as text.</summary>
    private const string LastWithTextIds = "20261124021804_IndexMessageSearchInBatches";

    private static readonly string[] IdColumns =
    [
        "Users.Id", "Sessions.Id", "Sessions.UserId", "RefreshTokens.SessionId", "Chats.Id", "Chats.CreatedById", "ChatMembers.ChatId",
        "ChatMembers.UserId", "Messages.Id", "Messages.ChatId", "Messages.SenderId", "Messages.FileId", "Messages.ReplyToId", "Files.Id",
        "Files.ChatId", "Files.UploaderId", "ReceiptAdvances.ChatId", "ReceiptAdvances.UserId", "MessageSearchKeys.MessageId",
    ];

    [Fact]
    public async Task A_database_with_ids_stored_as_text_is_converted_at_start_and_reads_back_the_same()
    {
        Assert.SkipUnless(WhisperServer.IsSqlite, "The embedded database only.");
        var directory = Path.Combine(Path.GetTempPath(), "whisper-tests", Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Whisper:DataDirectory"] = directory };
        var database = Path.Combine(directory, "whisper.db");
        try
        {
            SessionDto aliceSession;
            Guid groupId, directId, repliedId;
            Dictionary<string, string> before;
            using (var first = new WhisperServer(settings))
            {
                var (alice, bob, carol) = (await first.RegisterAsync(), await first.RegisterAsync(), await first.RegisterAsync());
                aliceSession = alice.Session;
                var group = await alice.GroupAsync("migrated", bob, carol);
                var direct = await alice.DirectChatWithAsync(bob);
                (groupId, directId) = (group.Id, direct.Id);
                var replied = await alice.SendAsync(group.Id, "the harbour at dawn", clientMessageId: "retry-1");
                repliedId = replied.Id;
                var file = await (await FileTests.UploadAsync(bob, group.Id, FileTests.Png, "harbour.png", "image/png")).ReadAsync<FileDto>();
                await (await bob.Http.PostAsJsonAsync($"/api/chats/{group.Id}/messages", new { content = "a photo of the harbour", fileId = file.Id, replyToId = replied.Id }, Json.Options))
                    .ShouldBe(HttpStatusCode.Created);
                var edited = await carol.SendAsync(group.Id, "a typo");
                await (await carol.Http.PutAsJsonAsync($"/api/messages/{edited.Id}", new { content = "no typo in the harbour" }, Json.Options)).ShouldBe(HttpStatusCode.OK);
                var deleted = await carol.SendAsync(group.Id, "gone");
                await (await carol.Http.DeleteAsync($"/api/messages/{deleted.Id}")).ShouldBe(HttpStatusCode.NoContent);
                await bob.SendAsync(direct.Id, "just us");
                await (await bob.Http.PostAsJsonAsync($"/api/messages/{replied.Id}/status", new { status = "read" }, Json.Options)).ShouldBe(HttpStatusCode.OK);
                before = await ReadEverythingAsync(alice.Http, group.Id, direct.Id, replied.Id);
            }

            // What a version before IdsAsBlobs stored: the database migrated back, ids as text.
            SqliteConnection.ClearAllPools();
            await using (var db = Context(database))
            {
                await db.GetService<IMigrator>().MigrateAsync(LastWithTextIds, TestContext.Current.CancellationToken);
            }

            Assert.Equal(["text"], await StoredTypesAsync(database));
            // What an upgrade cut off after EF's first transaction leaves: a copy of a table, which the next start redoes.
            await QueryAsync(database, """CREATE TABLE "ef_temp_Messages" ("Id" BLOB); SELECT 1""");

            using var second = new WhisperServer(settings);
            using var aliceAgain = new HttpClient { BaseAddress = second.BaseAddress, Timeout = WhisperServer.RequestTimeout };
            aliceAgain.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", aliceSession.AccessToken);

            Assert.Equal(before, await ReadEverythingAsync(aliceAgain, groupId, directId, repliedId));
            Assert.Equal(["blob"], await StoredTypesAsync(database));
            Assert.Empty(await QueryAsync(database, "PRAGMA foreign_key_check"));
            Assert.Equal(["ok"], await QueryAsync(database, "PRAGMA integrity_check"));

            // The session's refresh token still rotates, and search indexes what is sent after the conversion too.
            using var anonymous = second.Anonymous();
            var refreshed = await anonymous.PostAsJsonAsync("/api/refresh", new { refreshToken = aliceSession.RefreshToken }, Json.Options);
            await refreshed.ShouldBe(HttpStatusCode.OK);
            await (await aliceAgain.PostAsJsonAsync($"/api/chats/{groupId}/messages", new { content = "harbour lights" }, Json.Options)).ShouldBe(HttpStatusCode.Created);
            var found = await aliceAgain.GetFromJsonAsync<Page<MessageDto>>($"/api/chats/{groupId}/messages/search?q=harbour", Json.Options);
            Assert.Equal(["the harbour at dawn", "a photo of the harbour", "no typo in the harbour", "harbour lights"], found!.Items.OrderBy(m => m.Seq).Select(m => m.Content));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Every answer that shows a stored id or what hangs off one, as the server wrote it.</summary>
    private static async Task<Dictionary<string, string>> ReadEverythingAsync(HttpClient client, Guid groupId, Guid directId, Guid messageId)
    {
        var paths = new[]
        {
            "/api/users/me", "/api/chats", $"/api/chats/{groupId}", $"/api/chats/{directId}", $"/api/chats/{groupId}/messages",
            $"/api/chats/{directId}/messages", $"/api/chats/{groupId}/messages/search?q=harbour", $"/api/messages/{messageId}/status",
            $"/api/chats/{groupId}/files",
        };
        var answers = new Dictionary<string, string>();
        foreach (var path in paths)
        {
            var response = await client.GetAsync(path);
            await response.ShouldBe(HttpStatusCode.OK);
            answers[path] = await response.Content.ReadAsStringAsync();
        }

        return answers;
    }

    /// <summary>The storage classes found in every id column (NULLs left out).</summary>
    private static async Task<List<string>> StoredTypesAsync(string database) =>
        await QueryAsync(database, string.Join(" UNION ", IdColumns.Select(c => c.Split('.')).Select(c => $"""SELECT typeof("{c[1]}") FROM "{c[0]}" WHERE "{c[1]}" IS NOT NULL""")));

    private static async Task<List<string>> QueryAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetValue(0).ToString()!);
        }

        return rows;
    }

    private static SqliteWhisperDbContext Context(string database) =>
        new(new DbContextOptionsBuilder<SqliteWhisperDbContext>().UseSqlite($"Data Source={database}").Options);
}
