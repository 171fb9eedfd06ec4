using System.Net;
using System.Net.Sockets;
using System.Text;
using Whisper.Server.Common;
using Whisper.Server.Files;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>Uploads built to hurt: trickled bytes that would hold a request open, and headers far past any sane size.</summary>
public sealed class HostileUploadTests(SharedServer server)
{
    [Fact]
    public async Task An_upload_trickled_below_the_minimum_data_rate_is_cut_off_and_stores_nothing()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        var preamble = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/chats/{chat.Id}/files HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n" +
            $"Authorization: Bearer {alice.Session.AccessToken}\r\nContent-Type: multipart/form-data; boundary=b\r\n" +
            $"Content-Length: 100000\r\n\r\n{preamble}"));

        // One byte every half second is far below Kestrel's minimum body data rate (240 bytes/s after a 5 s grace).
        using var trickling = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var trickle = Task.Run(async () =>
        {
            try
            {
                while (!trickling.IsCancellationRequested)
                {
                    await stream.WriteAsync("x"u8.ToArray(), trickling.Token);
                    await Task.Delay(500, trickling.Token);
                }
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection: what this test waits for.
            }
        });

        var answer = await ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
        await trickling.CancelAsync();
        await trickle;

        Assert.StartsWith("HTTP/1.1 408", answer);
        Assert.Empty((await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files")).Items);
    }

    [Fact]
    public async Task A_multipart_section_with_huge_headers_is_a_400_problem_and_stores_nothing()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var body = new ByteArrayContent(Encoding.ASCII.GetBytes(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n" +
            $"X-Padding: {new string('p', 64 * 1024)}\r\n\r\nbytes\r\n--b--\r\n"));
        body.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");

        var response = await alice.Http.PostAsync($"/api/chats/{chat.Id}/files", body);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        Assert.Empty((await alice.GetAsync<Page<FileDto>>($"/api/chats/{chat.Id}/files")).Items);
    }

    [Fact]
    public async Task A_multipart_section_with_a_huge_file_name_is_stored_under_a_bounded_name()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        var response = await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, new string('n', 4000) + ".png", "image/png");

        await response.ShouldBe(HttpStatusCode.Created);
        var file = await response.ReadAsync<FileDto>();
        Assert.InRange(file.Name.Length, 1, 255);
    }

    [Fact]
    public async Task Request_headers_past_the_server_limit_are_refused_with_431()
    {
        var alice = await server.RegisterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('p', 64 * 1024));

        var response = await alice.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    /// <summary>Everything the server sends until it closes the connection, within a bound.</summary>
    private static async Task<string> ReadUntilClosedAsync(NetworkStream stream, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer still counts as closed.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The server kept the trickled upload open past {bound.TotalSeconds} s.");
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
