using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Whisper.E2E.Infrastructure;

/// <summary>
/// The real Whisper host on real Kestrel (loopback, a port the OS chose) with its own data directory,
/// serving the real built web client from its content root's wwwroot, exactly as `dotnet run` does.
/// </summary>
public sealed class WhisperServer : WebApplicationFactory<Program>
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "whisper-e2e", Guid.NewGuid().ToString("N"));

    public WhisperServer()
    {
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.Single());
        ContentRoot = Services.GetRequiredService<Microsoft.AspNetCore.Hosting.IWebHostEnvironment>().ContentRootPath;
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server's content root; the web client is its wwwroot.</summary>
    public string ContentRoot { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Whisper:DataDirectory"] = dataDirectory,
            ["Whisper:RateLimits:Enabled"] = "false",
            // The push test subscribes a loopback endpoint (nothing listens there): no push ever leaves the machine.
            ["Whisper:Push:AllowLoopbackEndpoints"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
        }));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open is cleaned with the temp folder.
            }
        }
    }
}
