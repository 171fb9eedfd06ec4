using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Whisper.Client;

namespace Whisper.Bench;

/// <summary>What every Whisper workload starts with: registered users, and their hub connections.</summary>
public static class BenchClients
{
    /// <summary>Registers <paramref name="count"/> users, 8 at a time: registration hashes a password, the server's costliest request.</summary>
    public static async Task<WhisperClient[]> RegisterAsync(Uri server, int count, CancellationToken cancellationToken)
    {
        using var throttle = new SemaphoreSlim(8);
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await throttle.WaitAsync(cancellationToken);
            try
            {
                var client = new WhisperClient(server);
                await client.RegisterAsync($"bench{Guid.NewGuid():N}"[..24], "benchmark password", cancellationToken: cancellationToken);
                return client;
            }
            finally
            {
                throttle.Release();
            }
        }));
    }

    /// <summary>A hub connection as Whisper's clients make it: WebSockets without negotiation, MessagePack.</summary>
    public static HubConnection HubConnection(Uri server, WhisperClient client) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(server, "hubs/chat"), options =>
            {
                options.AccessTokenProvider = () => client.GetAccessTokenAsync();
                options.SkipNegotiation = true;
                options.Transports = HttpTransportType.WebSockets;
            })
            .AddMessagePackProtocol()
            .Build();
}
