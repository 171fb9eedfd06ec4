using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Push;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

public sealed class PushServer() : WhisperServer(new Dictionary<string, string?>
{
    ["Whisper:Push:AllowLoopbackEndpoints"] = "true",
    ["Whisper:Push:RetryDelay"] = "00:00:00.050",
    ["Whisper:Push:Subject"] = "mailto:ops@whisper.test",
});

public sealed class PushTests(PushServer server) : IClassFixture<PushServer>, IAsyncLifetime
{
    private FakePushService pushService = null!;

    public async ValueTask InitializeAsync() => pushService = await FakePushService.StartAsync();

    public async ValueTask DisposeAsync() => await pushService.DisposeAsync();

    private async Task<(PushSubscriber Subscriber, string Id)> SubscribeAsync(TestUser user)
    {
        var id = Guid.NewGuid().ToString("N");
        var subscriber = new PushSubscriber(pushService.EndpointFor(id));
        await (await user.Http.PostAsJsonAsync("/api/push/subscriptions", subscriber.Json)).ShouldBe(HttpStatusCode.Created);
        return (subscriber, id);
    }

    [Fact]
    public async Task An_offline_member_gets_an_encrypted_signed_push_with_who_wrote_where()
    {
        var (alice, bob) = (await server.RegisterAsync(displayName: "Alice"), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var (bobsBrowser, id) = await SubscribeAsync(bob);

        var message = await alice.SendAsync(chat.Id, "Dinner at eight?");

        var push = Assert.Single(await pushService.WaitForAsync(id, 1));
        Assert.Equal(("aes128gcm", "high", chat.Id.ToString("N")), (push.ContentEncoding, push.Urgency, push.Topic));
        Assert.Equal("86400", push.Ttl);
        var payload = bobsBrowser.Open(push.Body);
        Assert.Equal(new PushPayload(chat.Id, message.Id, 1, "Alice", "Dinner at eight?", $"/chats/{chat.Id}"), payload);
        AssertValidVapid(push.Authorization, await PublicKeyAsync(bob));
    }

    [Fact]
    public async Task Members_online_on_any_device_and_the_sender_get_no_push()
    {
        var (alice, bob, carol) = (await server.RegisterAsync(displayName: "Alice"), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await alice.GroupAsync("Team", bob, carol);
        var (_, aliceId) = await SubscribeAsync(alice);
        var (bobsBrowser, bobId) = await SubscribeAsync(bob);
        var (_, carolId) = await SubscribeAsync(carol);
        await using var carolsPhone = await Device.ConnectAsync(server, carol);

        await alice.SendAsync(group.Id, "first");
        await alice.SendAsync(group.Id, "second");

        var bobs = await pushService.WaitForAsync(bobId, 2);
        var payloads = bobs.Select(push => bobsBrowser.Open(push.Body)).ToList();
        Assert.All(payloads, payload => Assert.Equal("Team", payload.Title));
        Assert.Equal(["Alice: first", "Alice: second"], payloads.Select(p => p.Body).Order());
        Assert.Empty(pushService.ReceivedBy(carolId));
        Assert.Empty(pushService.ReceivedBy(aliceId));
    }

    [Theory]
    [InlineData(404)]
    [InlineData(410)]
    public async Task A_subscription_the_push_service_no_longer_knows_is_dropped(int status)
    {
        var (alice, bob, carol) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await alice.GroupAsync("g", bob, carol);
        var (_, goneId) = await SubscribeAsync(bob);
        var (_, carolId) = await SubscribeAsync(carol);
        pushService.Script(goneId, status);

        await alice.SendAsync(group.Id, "one");
        await pushService.WaitForAsync(goneId, 1);
        await Waits.UntilAsync(async () => await SubscriptionsOfAsync(bob) == 0, "the gone subscription to be deleted");
        await alice.SendAsync(group.Id, "two");
        await pushService.WaitForAsync(carolId, 2);

        Assert.Single(pushService.ReceivedBy(goneId));
    }

    [Fact]
    public async Task Busy_and_failing_push_services_are_retried_with_back_off()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        var (browser, id) = await SubscribeAsync(bob);
        pushService.Script(id, 429, 503);

        await alice.SendAsync(chat.Id, "eventually");

        var attempts = await pushService.WaitForAsync(id, 3);
        Assert.All(attempts, attempt => Assert.Equal("eventually", browser.Open(attempt.Body).Body));
        Assert.Equal(1, await SubscriptionsOfAsync(bob));
    }

    [Fact]
    public async Task Logging_out_and_unsubscribing_end_the_pushes()
    {
        var bob = await server.RegisterAsync();
        var (browser, _) = await SubscribeAsync(bob);
        Assert.Equal(1, await SubscriptionsOfAsync(bob));

        await (await bob.Http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/push/subscriptions") { Content = JsonContent.Create(new { endpoint = browser.Endpoint }) }))
            .ShouldBe(HttpStatusCode.NoContent);
        Assert.Equal(0, await SubscriptionsOfAsync(bob));

        await SubscribeAsync(bob);
        await (await bob.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);
        Assert.Equal(0, await SubscriptionsOfAsync(bob));
    }

    private async Task<string> PublicKeyAsync(TestUser user) => (await user.GetAsync<PublicKeyDto>("/api/push/public-key")).PublicKey;

    private Task<int> SubscriptionsOfAsync(TestUser user) =>
        server.QueryStoreAsync(db => db.PushSubscriptions.CountAsync(s => s.UserId == user.Id));

    /// <summary>Checks the VAPID header as a push service does (RFC 8292).</summary>
    private void AssertValidVapid(string authorization, string serverPublicKey)
    {
        var match = System.Text.RegularExpressions.Regex.Match(authorization, "^vapid t=([^,]+), k=(.+)$");
        Assert.True(match.Success, authorization);
        Assert.Equal(serverPublicKey, match.Groups[2].Value);
        var parts = match.Groups[1].Value.Split('.');
        Assert.Equal("""{"typ":"JWT","alg":"ES256"}""", Encoding.UTF8.GetString(Base64Url.TryDecode(parts[0])!));
        var point = Base64Url.TryDecode(serverPublicKey)!;
        using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point[1..33], Y = point[33..] } });
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url.TryDecode(parts[2])!, HashAlgorithmName.SHA256));
        var claims = JsonDocument.Parse(Base64Url.TryDecode(parts[1])!).RootElement;
        Assert.Equal(pushService.BaseAddress.GetLeftPart(UriPartial.Authority), claims.GetProperty("aud").GetString());
        Assert.Equal("mailto:ops@whisper.test", claims.GetProperty("sub").GetString());
        var expires = DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64());
        Assert.InRange(expires, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(24));
    }
}

/// <summary>The default server: endpoints must be https on public addresses.</summary>
public sealed class PushEndpointPolicyTests(SharedServer server)
{
    private static readonly string P256dh = Base64Url.Encode(WebPushEncryption.PublicKeyBytes(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256)));
    private static readonly string Auth = Base64Url.Encode(RandomNumberGenerator.GetBytes(16));

    [Theory]
    [InlineData("http://push.example.com/x")]
    [InlineData("https://127.0.0.1/x")]
    [InlineData("https://localhost/x")]
    [InlineData("https://api.localhost/x")]
    [InlineData("https://10.1.2.3/x")]
    [InlineData("https://172.20.0.1/x")]
    [InlineData("https://192.168.1.1/x")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://100.64.0.1/x")]
    [InlineData("https://0.0.0.0/x")]
    [InlineData("https://[::1]/x")]
    [InlineData("https://[fe80::1]/x")]
    [InlineData("https://[fd00::1]/x")]
    [InlineData("https://[::ffff:10.0.0.1]/x")]
    [InlineData("https://user:pass@push.example.com/x")]
    [InlineData("ftp://push.example.com/x")]
    [InlineData("not a url")]
    public async Task Endpoints_that_would_reach_inside_are_refused(string endpoint)
    {
        var user = await server.RegisterAsync();

        var response = await user.Http.PostAsJsonAsync("/api/push/subscriptions", new { endpoint, keys = new { p256dh = P256dh, auth = Auth } });

        Assert.Contains("endpoint", (await response.ShouldBeProblem(HttpStatusCode.BadRequest)).Errors.Keys);
    }

    [Fact]
    public async Task A_public_https_endpoint_with_valid_keys_is_accepted_and_bad_keys_are_not()
    {
        var user = await server.RegisterAsync();
        var endpoint = $"https://push.example.com/{Guid.NewGuid():N}";

        await (await user.Http.PostAsJsonAsync("/api/push/subscriptions", new { endpoint, keys = new { p256dh = P256dh, auth = Auth } })).ShouldBe(HttpStatusCode.Created);
        await (await user.Http.PostAsJsonAsync("/api/push/subscriptions", new { endpoint, keys = new { p256dh = Auth, auth = Auth } })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await user.Http.PostAsJsonAsync("/api/push/subscriptions", new { endpoint, keys = new { p256dh = P256dh, auth = P256dh } })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await user.Http.PostAsJsonAsync("/api/push/subscriptions", new { endpoint })).ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_public_key_is_a_p256_point_and_needs_a_session()
    {
        var user = await server.RegisterAsync();

        var key = Base64Url.TryDecode((await user.GetAsync<PublicKeyDto>("/api/push/public-key")).PublicKey)!;

        Assert.Equal(65, key.Length);
        using var _ = WebPushEncryption.ImportPublicKey(key);
        await (await server.Anonymous().GetAsync("/api/push/public-key")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}
