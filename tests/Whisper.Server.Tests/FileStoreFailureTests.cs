using System.Net;
using System.Net.Http.Json;
using Whisper.Server.Common;
using Whisper.Server.Files;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>
/// When the file store fails (a full disk, a read-only data directory, an unreachable object store),
/// an upload gets a clear 5xx problem, nothing half-written is left behind, and everything else
/// (messages, other chats, the next upload once the store is back) goes on working.
/// </summary>
public sealed class FileStoreFailureTests
{
    private static WhisperServer LocalFilesServer() =>
        new(new Dictionary<string, string?> { ["Whisper:Storage:Provider"] = "Local" });

    [Fact]
    public async Task A_full_disk_answers_507_leaves_no_partial_file_and_smaller_files_still_fit()
    {
        await using var server = LocalFilesServer();
        using var disk = SmallDisk.Mount(Path.Combine(server.DataDirectory, "files"), kibibytes: 1024);
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var tooBig = await FileTests.UploadAsync(alice, chat.Id, new byte[2 * 1024 * 1024], "video.bin", "application/octet-stream");

        await tooBig.ShouldBeProblem(HttpStatusCode.InsufficientStorage);
        Assert.Empty(disk.Files());
        Assert.Empty((await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files")).Items);
        await bob.SendAsync(chat.Id, "messages do not need the file store");
        var fits = await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "small.png", "image/png");
        await fits.ShouldBe(HttpStatusCode.Created);
        var file = await fits.ReadAsync<FileDto>();
        Assert.Equal(FileTests.Png, await bob.Http.GetByteArrayAsync(file.Url));
    }

    [Fact]
    public async Task A_read_only_data_directory_answers_503_and_uploads_work_again_once_it_is_writable()
    {
        await using var server = LocalFilesServer();
        using var disk = SmallDisk.Mount(Path.Combine(server.DataDirectory, "files"), kibibytes: 1024, readOnly: true);
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var refused = await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "photo.png", "image/png");

        await refused.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
        Assert.Empty((await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files")).Items);
        await bob.SendAsync(chat.Id, "messages do not need the file store");

        disk.MakeWritable();
        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "photo.png", "image/png")).ShouldBe(HttpStatusCode.Created);
        Assert.Single(disk.Files());
    }

    [Fact]
    public async Task An_unreachable_object_store_answers_503_and_stores_no_file_row()
    {
        await using var server = new WhisperServer(new Dictionary<string, string?>
        {
            ["Whisper:Storage:Provider"] = "S3",
            // A loopback port nothing listens on: connections are refused at once.
            ["Whisper:Storage:ServiceUrl"] = $"http://127.0.0.1:{ServerNode.FreePort()}",
            ["Whisper:Storage:AccessKey"] = "key",
            ["Whisper:Storage:SecretKey"] = "secret",
        });
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var refused = await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "photo.png", "image/png");

        await refused.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
        Assert.Empty((await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files")).Items);
        await bob.SendAsync(chat.Id, "messages do not need the file store");
    }
}
