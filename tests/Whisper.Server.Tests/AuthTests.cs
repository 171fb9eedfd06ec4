using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Auth;
using Whisper.Server.Tests.Infrastructure;
using Whisper.Server.Users;

namespace Whisper.Server.Tests;

public sealed class AuthTests(SharedServer server)
{
    [Fact]
    public async Task Register_answers_a_session_whose_access_token_works()
    {
        var username = Names.Unique();
        var response = await server.Anonymous().PostAsJsonAsync("/api/register",
            new { username, password = TestUser.Password, displayName = "Ada L.", email = $"{username}@example.com" });

        await response.ShouldBe(HttpStatusCode.Created);
        var session = await response.ReadAsync<SessionDto>();
        Assert.Equal(username, session.User.Username);
        Assert.Equal("Ada L.", session.User.DisplayName);
        Assert.Equal($"{username}@example.com", session.User.Email);
        Assert.True(session.ExpiresAt > DateTime.UtcNow.AddMinutes(5) && session.ExpiresAt < DateTime.UtcNow.AddHours(1));
        Assert.NotEmpty(session.RefreshToken);

        var client = server.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
        var me = await client.GetFromJsonAsync<MeDto>("/api/users/me", Json.Options);
        Assert.Equal(session.User.Id, me!.Id);
    }

    [Fact]
    public async Task Usernames_are_unique_case_insensitively_and_emails_too()
    {
        var user = await server.RegisterAsync(email: $"{Names.Unique()}@example.com");

        var sameNameUpperCase = await server.Anonymous().PostAsJsonAsync("/api/register",
            new { username = user.Username.ToUpperInvariant(), password = TestUser.Password });
        var sameEmail = await server.Anonymous().PostAsJsonAsync("/api/register",
            new { username = Names.Unique(), password = TestUser.Password, email = user.Session.User.Email!.ToUpperInvariant() });

        Assert.Contains("username", (await sameNameUpperCase.ShouldBeProblem(HttpStatusCode.Conflict)).Detail);
        Assert.Contains("email", (await sameEmail.ShouldBeProblem(HttpStatusCode.Conflict)).Detail);
    }

    [Theory]
    [InlineData("""{"username":"ab","password":"long enough password"}""", "username")]
    [InlineData("""{"username":"has space","password":"long enough password"}""", "username")]
    [InlineData("""{"username":"émile","password":"long enough password"}""", "username")]
    [InlineData("""{"username":"thirtythreecharacterslongusername","password":"long enough password"}""", "username")]
    [InlineData("""{"username":"validname","password":"short"}""", "password")]
    [InlineData("""{"username":"validname","password":"long enough password","email":"not-an-email"}""", "email")]
    [InlineData("""{"username":"validname","password":"long enough password","displayName":"   "}""", "displayName")]
    [InlineData("""{"password":"long enough password"}""", "username")]
    [InlineData("""{"username":"validname"}""", "password")]
    public async Task Register_rejects_invalid_fields_naming_each(string body, string field)
    {
        var response = await server.Anonymous().PostAsync("/api/register", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        Assert.Contains(field, problem.Errors.Keys);
    }

    [Fact]
    public async Task Login_works_with_username_or_email()
    {
        var email = $"{Names.Unique()}@example.com";
        var user = await server.RegisterAsync(email: email);

        var byName = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = TestUser.Password });
        var byEmail = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = email.ToUpperInvariant(), password = TestUser.Password });

        await byName.ShouldBe(HttpStatusCode.OK);
        await byEmail.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(user.Id, (await byEmail.ReadAsync<SessionDto>()).User.Id);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_the_same_answer()
    {
        var user = await server.RegisterAsync();

        var wrongPassword = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = "wrong password!" });
        var unknownUser = await server.Anonymous().PostAsJsonAsync("/api/login", new { login = Names.Unique(), password = "wrong password!" });

        var first = await wrongPassword.ShouldBeProblem(HttpStatusCode.Unauthorized);
        var second = await unknownUser.ShouldBeProblem(HttpStatusCode.Unauthorized);
        Assert.Equal(first.Detail, second.Detail);
    }

    [Fact]
    public async Task Refresh_rotates_and_the_old_refresh_token_stops_working()
    {
        var user = await server.RegisterAsync();

        var refreshed = await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken });
        await refreshed.ShouldBe(HttpStatusCode.OK);
        var next = await refreshed.ReadAsync<SessionDto>();
        Assert.NotEqual(user.Session.RefreshToken, next.RefreshToken);
        Assert.Equal(user.Id, next.User.Id);

        var again = await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = next.RefreshToken });
        await again.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Reusing_a_rotated_refresh_token_revokes_the_whole_session()
    {
        var user = await server.RegisterAsync();
        var rotated = await (await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken })).ReadAsync<SessionDto>();

        var reuse = await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken });
        await reuse.ShouldBeProblem(HttpStatusCode.Unauthorized);

        // The thief's reuse ends the session for the legitimate holder of the newest tokens too.
        var newest = await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = rotated.RefreshToken });
        await newest.ShouldBeProblem(HttpStatusCode.Unauthorized);
        var client = server.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rotated.AccessToken);
        await (await client.GetAsync("/api/users/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Concurrent_refreshes_with_one_token_let_at_most_one_through()
    {
        var user = await server.RegisterAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken })));

        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.OK) <= 1);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Unauthorized }));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    public async Task Logout_ends_the_session_for_both_tokens_at_once(string method)
    {
        var user = await server.RegisterAsync();
        await (await user.Http.GetAsync("/api/users/me")).ShouldBe(HttpStatusCode.OK);

        var logout = await user.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/api/logout"));

        await logout.ShouldBe(HttpStatusCode.NoContent);
        await (await user.Http.GetAsync("/api/users/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        var refresh = await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = user.Session.RefreshToken });
        await refresh.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_ends_only_that_session()
    {
        var user = await server.RegisterAsync();
        var secondDevice = await (await server.Anonymous().PostAsJsonAsync("/api/login", new { login = user.Username, password = TestUser.Password })).ReadAsync<SessionDto>();

        await (await user.Http.PostAsync("/api/logout", null)).ShouldBe(HttpStatusCode.NoContent);

        var client = server.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secondDevice.AccessToken);
        await (await client.GetAsync("/api/users/me")).ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer not-a-jwt")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Requests_without_a_valid_token_are_401_problems(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/me");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        await (await server.Anonymous().SendAsync(request)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_with_an_unknown_or_missing_token_is_refused()
    {
        await (await server.Anonymous().PostAsJsonAsync("/api/refresh", new { refreshToken = "nonsense" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await server.Anonymous().PostAsJsonAsync("/api/refresh", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Passwords_and_refresh_tokens_are_stored_only_as_hashes()
    {
        var user = await server.RegisterAsync();

        var passwordHash = await server.QueryStoreAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.PasswordHash).SingleAsync());
        var storedRaw = await server.QueryStoreAsync(db => db.RefreshTokens.AnyAsync(t => t.TokenHash == user.Session.RefreshToken));

        Assert.DoesNotContain(TestUser.Password, passwordHash, StringComparison.Ordinal);
        Assert.True(passwordHash.Length > 40);
        Assert.False(storedRaw);
    }
}
