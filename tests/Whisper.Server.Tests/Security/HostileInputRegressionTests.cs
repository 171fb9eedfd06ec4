using System.Net;
using System.Text;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>Its own server, with its Error log watched, and the count of cases for the security report.</summary>
public sealed class RegressionFixture : IAsyncDisposable
{
    public const string Family = "hostile-input regressions (named cases)";

    public HostileServer Server { get; } = new();

    public CaseTally Tally { get; } = new();

    public async ValueTask DisposeAsync()
    {
        if (Tally.Tried > 0)
        {
            SecurityReport.Write(Family, Tally.Tried, Tally.Failures);
        }

        await Server.DisposeAsync();
    }
}

/// <summary>
/// Inputs that once got a 500, a bare status, a closed connection or an Error in the server's log, each
/// kept as it was found.
/// </summary>
public sealed class HostileInputRegressionTests(RegressionFixture fixture) : IClassFixture<RegressionFixture>
{
    private HostileServer Server => fixture.Server;

    /// <summary>
    /// A client that accepts no JSON (a browser asking for HTML) made the default problem writer write
    /// nothing: a 401 came back as "Status Code: 401; Unauthorized" in plain text, a body that could not be
    /// read as a bare 400, with nothing to say what was wrong.
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/users/me", null, "text/html", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/no-such-thing", null, "application/xml", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/api/users", null, "text/html", HttpStatusCode.MethodNotAllowed)]
    [InlineData("POST", "/api/login", "{", "text/html", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/login", "{\"login\":1}", "application/xml", HttpStatusCode.BadRequest)]
    public Task A_client_that_accepts_no_JSON_still_gets_a_problem(string method, string path, string? body, string accept, HttpStatusCode expected) => fixture.Tally.RunAsync(async () =>
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await Server.Anonymous().SendAsync(request);

        await response.ShouldBeProblem(expected);
    });
}
