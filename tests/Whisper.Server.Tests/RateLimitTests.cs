using System.Net;
using System.Net.Http.Json;
using Whisper.Server.Common;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>A server with small limits, so each one is reached in a few requests.</summary>
public sealed class LimitedServer() : WhisperServer(new Dictionary<string, string?>
{
    ["Whisper:RateLimits:Enabled"] = "true",
    ["Whisper:RateLimits:LoginPerAccount:PermitLimit"] = "3",
    ["Whisper:RateLimits:LoginPerAddress:PermitLimit"] = "1000",
    ["Whisper:RateLimits:RegisterPerAddress:PermitLimit"] = "1000",
    ["Whisper:RateLimits:SendPerUser:PermitLimit"] = "5",
    ["Whisper:RateLimits:SendPerUser:WindowSeconds"] = "60",
    ["Whisper:RateLimits:UploadPerUser:PermitLimit"] = "2",
    ["Whisper:RateLimits:UploadPerUser:WindowSeconds"] = "60",
});

public sealed class RateLimitTests(LimitedServer server) : IClassFixture<LimitedServer>
{
    [Fact]
    public async Task Login_attempts_are_limited_per_account_with_retry_after()
    {
        var user = await server.RegisterAsync();
        var bystander = await server.RegisterAsync();

        for (var i = 0; i < 3; i++)
        {
            await (await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = "wrong password" })).ShouldBe(HttpStatusCode.Unauthorized);
        }

        var throttled = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = TestUser.Password });
        await throttled.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Another account from the same address is unaffected.
        await (await server.Anonymous().PostAsJsonAsync("/api/login", new { login = bystander.Username, password = TestUser.Password })).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sends_are_limited_per_user()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(chat.Id, $"m{i}");
        }

        var throttled = await alice.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "one too many" });
        await throttled.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        await bob.SendAsync(chat.Id, "bob still may");
    }

    [Fact]
    public async Task Uploads_are_limited_per_user()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);

        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "1.png", "image/png")).ShouldBe(HttpStatusCode.Created);
        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "2.png", "image/png")).ShouldBe(HttpStatusCode.Created);

        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "3.png", "image/png")).ShouldBeProblem(HttpStatusCode.TooManyRequests);
    }
}

/// <summary>Registration is limited per address; it gets a server of its own so other tests can register freely.</summary>
public sealed class RegistrationLimitedServer() : WhisperServer(new Dictionary<string, string?>
{
    ["Whisper:RateLimits:Enabled"] = "true",
    ["Whisper:RateLimits:RegisterPerAddress:PermitLimit"] = "2",
});

public sealed class RegistrationLimitTests(RegistrationLimitedServer server) : IClassFixture<RegistrationLimitedServer>
{
    [Fact]
    public async Task Registrations_are_limited_per_address()
    {
        await server.RegisterAsync();
        await server.RegisterAsync();

        var third = await server.Anonymous().PostAsJsonAsync("/api/register", new { username = Names.Unique(), password = TestUser.Password });

        await third.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Assert.NotNull(third.Headers.RetryAfter);
    }
}

/// <summary>
/// Limits per address with generous limits per user, so only the address can trip them: every test
/// client comes from 127.0.0.1, like many users behind one office NAT or one attacker with many accounts.
/// </summary>
public sealed class AddressLimitedServer() : WhisperServer(new Dictionary<string, string?>
{
    ["Whisper:RateLimits:Enabled"] = "true",
    ["Whisper:RateLimits:RegisterPerAddress:PermitLimit"] = "1000",
    ["Whisper:RateLimits:LoginPerAccount:PermitLimit"] = "1000",
    ["Whisper:RateLimits:LoginPerAddress:PermitLimit"] = "3",
    ["Whisper:RateLimits:SendPerUser:PermitLimit"] = "1000",
    ["Whisper:RateLimits:SendPerAddress:PermitLimit"] = "4",
    ["Whisper:RateLimits:SendPerAddress:WindowSeconds"] = "60",
    ["Whisper:RateLimits:UploadPerUser:PermitLimit"] = "1000",
    ["Whisper:RateLimits:UploadPerAddress:PermitLimit"] = "2",
});

public sealed class AddressRateLimitTests(AddressLimitedServer server) : IClassFixture<AddressLimitedServer>
{
    [Fact]
    public async Task Login_attempts_from_one_address_are_limited_across_accounts()
    {
        var accounts = await server.RegisterManyAsync(4);

        for (var i = 0; i < 3; i++)
        {
            await (await server.Anonymous().PostAsJsonAsync("/api/login", new { login = accounts[i].Username, password = "wrong password" })).ShouldBe(HttpStatusCode.Unauthorized);
        }

        var throttled = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = accounts[3].Username, password = TestUser.Password });
        await throttled.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task Sends_from_one_address_are_limited_across_users()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await alice.SendAsync(chat.Id, "1");
        await alice.SendAsync(chat.Id, "2");
        await bob.SendAsync(chat.Id, "3");
        await bob.SendAsync(chat.Id, "4");

        var throttled = await bob.Http.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { content = "5" });

        await throttled.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Assert.Equal(4, (await alice.GetAsync<Page<Messages.MessageDto>>($"/api/chats/{chat.Id}/messages")).Items.Count);
    }

    [Fact]
    public async Task Uploads_from_one_address_are_limited_across_users()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "1.png", "image/png")).ShouldBe(HttpStatusCode.Created);
        await (await FileTests.UploadAsync(bob, chat.Id, FileTests.Png, "2.png", "image/png")).ShouldBe(HttpStatusCode.Created);

        await (await FileTests.UploadAsync(alice, chat.Id, FileTests.Png, "3.png", "image/png")).ShouldBeProblem(HttpStatusCode.TooManyRequests);
    }
}
