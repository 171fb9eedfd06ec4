using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Files;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class FileTests(SharedServer server)
{
    internal static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Enumerable.Range(0, 200).Select(i => (byte)i)];

    internal static async Task<HttpResponseMessage> UploadAsync(TestUser user, Guid chatId, byte[] bytes, string fileName, string contentType)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        form.Add(part, "file", fileName);
        return await user.Http.PostAsync($"/api/chats/{chatId}/files", form);
    }

    private async Task<(TestUser Alice, TestUser Bob, ChatDto Chat)> PairAsync()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        return (alice, bob, await alice.DirectChatWithAsync(bob));
    }

    [Fact]
    public async Task An_upload_is_stored_and_members_download_the_same_bytes()
    {
        var (alice, bob, chat) = await PairAsync();

        var upload = await UploadAsync(alice, chat.Id, Png, "holiday.png", "image/png");

        await upload.ShouldBe(HttpStatusCode.Created);
        var file = await upload.ReadAsync<FileDto>();
        Assert.Equal(("holiday.png", "image/png", Png.Length, chat.Id, alice.Id), (file.Name, file.ContentType, (int)file.Size, file.ChatId, file.UploaderId));
        Assert.Equal($"/api/files/{file.Id}", file.Url);

        var download = await bob.Http.GetAsync(file.Url);
        await download.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.NotNull(download.Headers.ETag);
    }

    [Fact]
    public async Task The_bytes_decide_the_type_when_they_can_tell()
    {
        var (alice, _, chat) = await PairAsync();

        var disguised = await (await UploadAsync(alice, chat.Id, Png, "notes.txt", "text/plain")).ReadAsync<FileDto>();
        var pdf = await (await UploadAsync(alice, chat.Id, "%PDF-1.7\n..."u8.ToArray(), "doc.pdf", "application/octet-stream")).ReadAsync<FileDto>();
        var unknown = await (await UploadAsync(alice, chat.Id, "plain words"u8.ToArray(), "a.csv", "text/csv")).ReadAsync<FileDto>();

        Assert.Equal("image/png", disguised.ContentType);
        Assert.Equal("application/pdf", pdf.ContentType);
        Assert.Equal("text/csv", unknown.ContentType);
    }

    [Fact]
    public async Task Active_content_is_served_as_an_attachment_that_cannot_script_the_app()
    {
        var (alice, bob, chat) = await PairAsync();
        var html = await (await UploadAsync(alice, chat.Id, "<script>alert(1)</script>"u8.ToArray(), "page.html", "text/html")).ReadAsync<FileDto>();

        var download = await bob.Http.GetAsync(html.Url);

        await download.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("sandbox", download.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\boot.ini", "boot.ini")]
    [InlineData("bad\u0001\u0007name\r\n.txt", "badname.txt")]
    [InlineData("   ", "file")]
    [InlineData("\"quoted\".txt", "quoted.txt")]
    public async Task Hostile_file_names_become_harmless_metadata(string clientName, string expected)
    {
        var (alice, _, chat) = await PairAsync();

        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent("data"u8.ToArray());
        part.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileNameStar = clientName };
        form.Add(part);
        var upload = await alice.Http.PostAsync($"/api/chats/{chat.Id}/files", form);

        await upload.ShouldBe(HttpStatusCode.Created);
        var file = await upload.ReadAsync<FileDto>();
        Assert.Equal(expected, file.Name);
        var stored = await server.StoredObjectsAsync();
        Assert.NotEmpty(stored);
        Assert.DoesNotContain(stored, key => key.Contains(expected, StringComparison.Ordinal) && expected != "file");
        var download = await alice.Http.GetAsync(file.Url);
        Assert.Equal(expected, download.Content.Headers.ContentDisposition?.FileNameStar);
    }

    [Fact]
    public async Task Range_requests_return_the_asked_slice()
    {
        var (alice, bob, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "clip.png", "image/png")).ReadAsync<FileDto>();

        var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        request.Headers.Range = new RangeHeaderValue(10, 19);
        var partial = await bob.Http.SendAsync(request);

        await partial.ShouldBe(HttpStatusCode.PartialContent);
        Assert.Equal(Png[10..20], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 10-19/{Png.Length}", partial.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task A_range_beyond_the_file_is_a_416_problem_that_is_neither_cached_nor_a_download()
    {
        var (alice, bob, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "clip.png", "image/png")).ReadAsync<FileDto>();

        var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        request.Headers.Range = new RangeHeaderValue(999_999_999, null);
        var beyond = await bob.Http.SendAsync(request);

        await beyond.ShouldBeProblem(HttpStatusCode.RequestedRangeNotSatisfiable);
        Assert.Equal($"bytes */{Png.Length}", beyond.Content.Headers.ContentRange?.ToString());
        Assert.Null(beyond.Content.Headers.ContentDisposition);
        Assert.Null(beyond.Headers.CacheControl);
    }

    [Fact]
    public async Task A_file_larger_than_one_upload_part_round_trips_with_ranges_in_every_part()
    {
        var (alice, bob, chat) = await PairAsync();
        var bytes = new byte[Storage.S3FileStore.PartSize * 2 + 12345];
        new Random(7).NextBytes(bytes);

        var upload = await UploadAsync(alice, chat.Id, bytes, "big.bin", "application/octet-stream");
        await upload.ShouldBe(HttpStatusCode.Created);
        var file = await upload.ReadAsync<FileDto>();

        Assert.Equal(bytes, await bob.Http.GetByteArrayAsync(file.Url));
        var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        var from = Storage.S3FileStore.PartSize - 10;
        request.Headers.Range = new RangeHeaderValue(from, from + 19);
        var partial = await bob.Http.SendAsync(request);
        await partial.ShouldBe(HttpStatusCode.PartialContent);
        Assert.Equal(bytes[from..(from + 20)], await partial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_matching_etag_answers_not_modified()
    {
        var (alice, _, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "x.png", "image/png")).ReadAsync<FileDto>();
        var etag = (await alice.Http.GetAsync(file.Url)).Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        request.Headers.IfNoneMatch.Add(etag);

        Assert.Equal(HttpStatusCode.NotModified, (await alice.Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task The_access_token_may_come_in_the_query_for_img_and_video_tags()
    {
        var (alice, _, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "x.png", "image/png")).ReadAsync<FileDto>();

        var download = await server.Anonymous().GetAsync($"{file.Url}?access_token={alice.Session.AccessToken}");

        await download.ShouldBe(HttpStatusCode.OK);
        await (await server.Anonymous().GetAsync(file.Url)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await server.Anonymous().GetAsync($"/api/users/me?access_token={alice.Session.AccessToken}")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Outsiders_cannot_upload_download_list_or_delete()
    {
        var (alice, _, chat) = await PairAsync();
        var outsider = await server.RegisterAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "x.png", "image/png")).ReadAsync<FileDto>();

        await (await UploadAsync(outsider, chat.Id, Png, "y.png", "image/png")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync(file.Url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.GetAsync($"/api/chats/{chat.Id}/files")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await outsider.Http.DeleteAsync(file.Url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await alice.Http.GetAsync($"/api/files/{Guid.NewGuid()}")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_or_has_no_file_field_is_refused()
    {
        var (alice, _, chat) = await PairAsync();

        var json = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/files", new { file = "base64?" });
        await json.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);

        using var form = new MultipartFormDataContent { { new StringContent("value"), "other" } };
        await (await alice.Http.PostAsync($"/api/chats/{chat.Id}/files", form)).ShouldBeProblem(HttpStatusCode.BadRequest);

        var broken = new StringContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nno end", System.Text.Encoding.UTF8);
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        var answer = await alice.Http.PostAsync($"/api/chats/{chat.Id}/files", broken);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
    }

    [Fact]
    public async Task Files_are_listed_newest_first_and_deleted_by_uploader_or_group_admin_only()
    {
        var (owner, uploader, bystander) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await owner.GroupAsync("files", uploader, bystander);
        var first = await (await UploadAsync(uploader, group.Id, Png, "1.png", "image/png")).ReadAsync<FileDto>();
        var second = await (await UploadAsync(uploader, group.Id, Png, "2.png", "image/png")).ReadAsync<FileDto>();

        var list = await bystander.GetAsync<Page<FileDto>>($"/api/chats/{group.Id}/files");
        Assert.Equal([second.Id, first.Id], list.Items.Select(f => f.Id));
        var paged = await bystander.GetAsync<Page<FileDto>>($"/api/chats/{group.Id}/files?limit=1");
        Assert.True(paged.HasMore);

        await (await bystander.Http.DeleteAsync(first.Url)).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await uploader.Http.DeleteAsync(first.Url)).ShouldBe(HttpStatusCode.NoContent);
        await (await owner.Http.DeleteAsync(second.Url)).ShouldBe(HttpStatusCode.NoContent);

        await (await bystander.Http.GetAsync(first.Url)).ShouldBeProblem(HttpStatusCode.NotFound);
        Assert.Empty((await bystander.GetAsync<Page<FileDto>>($"/api/chats/{group.Id}/files")).Items);
    }

    [Fact]
    public async Task A_message_carries_its_file_and_deleting_the_message_removes_the_file()
    {
        var (alice, bob, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "pic.png", "image/png")).ReadAsync<FileDto>();

        var sent = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { fileId = file.Id });
        await sent.ShouldBe(HttpStatusCode.Created);
        var message = await sent.ReadAsync<MessageDto>();
        Assert.Equal(MessageType.Image, message.Type);
        Assert.Equal(file.Id, message.File!.Id);

        await (await alice.Http.DeleteAsync($"/api/messages/{message.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await bob.Http.GetAsync(file.Url)).ShouldBeProblem(HttpStatusCode.NotFound);
        Assert.Null((await bob.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items.Single().File);
    }

    [Fact]
    public async Task A_history_page_shows_each_message_as_search_does_with_its_file_reply_edit_and_status()
    {
        var (alice, bob, chat) = await PairAsync();
        var file = await (await UploadAsync(alice, chat.Id, Png, "zebra.png", "image/png")).ReadAsync<FileDto>();
        var withFile = await (await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages",
            new { content = "zebra picture", fileId = file.Id, clientMessageId = "zebra-1" })).ReadAsync<MessageDto>();
        var reply = await (await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages",
            new { content = "zebra reply", replyToId = withFile.Id })).ReadAsync<MessageDto>();
        var edited = await alice.SendAsync(chat.Id, "zebra draft");
        await (await alice.Http.PutAsJsonAsync($"/api/messages/{edited.Id}", new { content = "zebra final" })).ShouldBe(HttpStatusCode.OK);
        var deleted = await alice.SendAsync(chat.Id, "zebra gone");
        await (await alice.Http.DeleteAsync($"/api/messages/{deleted.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await bob.Http.PostAsJsonAsync($"/api/messages/{reply.Id}/status", new { status = "read" })).ShouldBe(HttpStatusCode.OK);

        var page = (await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items;
        var found = (await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages/search?q=zebra")).Items;

        // Pages and search read the store by different paths; every field must agree.
        Assert.Equal(found.OrderBy(m => m.Seq), page.Where(m => m.DeletedAt is null));
        Assert.Equal([withFile.Id, reply.Id, edited.Id, deleted.Id], page.Select(m => m.Id));
        Assert.Equal([ReceiptStatus.Read, ReceiptStatus.Read, ReceiptStatus.Sent], page.Take(3).Select(m => m.Status));
        Assert.Equal((file.Id, file.Name, file.ContentType, file.Size, file.Url), (page[0].File!.Id, page[0].File!.Name, page[0].File!.ContentType, page[0].File!.Size, page[0].File!.Url));
        Assert.Equal(("zebra-1", MessageType.Image), (page[0].ClientMessageId, page[0].Type));
        Assert.Equal(withFile.Id, page[1].ReplyToId);
        Assert.Equal(("zebra final", true), (page[2].Content, page[2].EditedAt is { Kind: DateTimeKind.Utc }));
        Assert.Equal((null, true), (page[3].Content, page[3].DeletedAt is not null));
    }

    [Fact]
    public async Task The_chat_list_shows_the_newest_message_as_a_history_page_does_with_its_file_and_status()
    {
        var (alice, bob, chat) = await PairAsync();
        await alice.SendAsync(chat.Id, "before");
        var file = await (await UploadAsync(alice, chat.Id, Png, "okapi.png", "image/png")).ReadAsync<FileDto>();
        var last = await (await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages",
            new { content = "okapi picture", fileId = file.Id, clientMessageId = "okapi-1" })).ReadAsync<MessageDto>();
        await (await bob.Http.PostAsJsonAsync($"/api/messages/{last.Id}/status", new { status = "read" })).ShouldBe(HttpStatusCode.OK);

        var listed = (await alice.GetAsync<Page<ChatDto>>("/api/chats")).Items.Single(c => c.Id == chat.Id);
        var newest = (await alice.GetAsync<Page<MessageDto>>($"/api/chats/{chat.Id}/messages")).Items[^1];

        // The chat list and history pages read the store by different paths; every field must agree.
        Assert.Equal(newest, listed.LastMessage);
        Assert.Equal((last.Id, ReceiptStatus.Read, file.Id, "okapi-1"), (newest.Id, newest.Status, newest.File?.Id, newest.ClientMessageId));
    }

    [Fact]
    public async Task A_file_from_another_chat_cannot_be_attached()
    {
        var (alice, bob, chat) = await PairAsync();
        var other = await alice.GroupAsync("other", bob);
        var file = await (await UploadAsync(alice, other.Id, Png, "pic.png", "image/png")).ReadAsync<FileDto>();

        var sent = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { fileId = file.Id });

        await sent.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_user_s_avatar_is_visible_to_everyone_signed_in()
    {
        var (alice, bob, chat) = await PairAsync();
        var stranger = await server.RegisterAsync();
        var picture = await (await UploadAsync(alice, chat.Id, Png, "me.png", "image/png")).ReadAsync<FileDto>();

        var update = await alice.Http.PutAsJsonAsync($"/api/users/{alice.Id}", new { avatarFileId = picture.Id });
        await update.ShouldBe(HttpStatusCode.OK);

        var seen = await stranger.GetAsync<Users.UserDto>($"/api/users/{alice.Id}");
        Assert.Equal(picture.Url, seen.AvatarUrl);
        await (await stranger.Http.GetAsync(picture.Url)).ShouldBe(HttpStatusCode.OK);
        _ = bob;
    }
}

/// <summary>A server with a tiny size limit, to test it without moving megabytes.</summary>
public sealed class SmallFilesServer() : WhisperServer(new Dictionary<string, string?> { ["Whisper:Files:MaxBytes"] = "1000" });

public sealed class FileLimitTests(SmallFilesServer server) : IClassFixture<SmallFilesServer>
{
    [Fact]
    public async Task An_upload_over_the_limit_is_413_and_leaves_nothing_behind()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var exact = await FileTests.UploadAsync(alice, chat.Id, new byte[1000], "exact.bin", "application/octet-stream");
        await exact.ShouldBe(HttpStatusCode.Created);

        var tooLarge = await FileTests.UploadAsync(alice, chat.Id, new byte[1001], "big.bin", "application/octet-stream");

        await tooLarge.ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
        var files = await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files");
        Assert.Single(files.Items);
        Assert.Single(await server.StoredObjectsAsync());
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_before_reading()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var tooLarge = await FileTests.UploadAsync(alice, chat.Id, new byte[200_000], "big.bin", "application/octet-stream");

        await tooLarge.ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
    }
}

/// <summary>Downloads redirected to pre-signed URLs of the object store (S3 only).</summary>
public sealed class RedirectingServer() : WhisperServer(new Dictionary<string, string?> { ["Whisper:Storage:RedirectDownloads"] = "true" });

public sealed class FileRedirectTests(RedirectingServer server) : IClassFixture<RedirectingServer>
{
    [Fact]
    public async Task Members_are_redirected_to_a_short_lived_url_that_serves_the_bytes_and_ranges()
    {
        Assert.SkipUnless(WhisperServer.S3 is not null, "Runs in test.sh's scaled-out pass, which starts an S3-compatible server.");
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var outsider = await server.RegisterAsync();
        var file = await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "photo.png", "image/png")).ReadAsync<FileDto>();

        using var noRedirects = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress, Timeout = WhisperServer.RequestTimeout };
        noRedirects.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bob.Session.AccessToken);
        var answer = await noRedirects.GetAsync(file.Url);

        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var location = answer.Headers.Location!;
        Assert.Contains("Expires", location.Query, StringComparison.OrdinalIgnoreCase);
        using var plain = new HttpClient { Timeout = WhisperServer.RequestTimeout };
        Assert.Equal(FileTests.Png, await plain.GetByteArrayAsync(location));
        var range = new HttpRequestMessage(HttpMethod.Get, location);
        range.Headers.Range = new RangeHeaderValue(8, 15);
        Assert.Equal(FileTests.Png[8..16], await (await plain.SendAsync(range)).Content.ReadAsByteArrayAsync());
        await (await outsider.Http.GetAsync(file.Url)).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}
