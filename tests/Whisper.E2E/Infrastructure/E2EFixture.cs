using Whisper.E2E.Infrastructure;

[assembly: AssemblyFixture(typeof(E2EFixture))]

namespace Whisper.E2E.Infrastructure;

/// <summary>
/// One Whisper server and one headless Debian Chromium for the whole run. Each test opens its own
/// browser contexts (separate cookies and localStorage: separate people) and registers its own
/// uniquely named users, so the test classes run in parallel.
/// </summary>
public sealed class E2EFixture : IAsyncLifetime
{
    /// <summary>Debian's Chromium; Playwright's own browser downloads are never used.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>The longest any single wait may take; every wait in these tests is bounded by it.</summary>
    public const float WaitMs = 15_000;

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic",
    ];

    private IPlaywright? playwright;
    private IBrowser? browser;
    private WhisperServer? server;

    public WhisperServer Server => server ?? throw new InvalidOperationException("The fixture is not initialised.");

    public IBrowser Browser => browser ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Debian's Chromium at {ChromiumPath}, and it is not installed. " +
                "Install it with `apt-get update && apt-get install -y chromium` (test.sh does this); " +
                "Playwright's own browser downloads are not used.");
        }

        server = new WhisperServer();
        var index = Path.Combine(server.ContentRoot, "wwwroot", "index.html");
        if (!File.Exists(index))
        {
            throw new InvalidOperationException(
                $"The web client is not built: {index} is missing. Build the server without -p:SkipWebBuild=true " +
                "(`dotnet build tests/Whisper.E2E`) so src/web is built into its wwwroot.");
        }

        Assertions.SetDefaultExpectTimeout(WaitMs);
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }

        playwright?.Dispose();
        server?.Dispose();
    }
}
