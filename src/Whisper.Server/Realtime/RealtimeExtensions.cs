using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;
using Whisper.Server.Operations;

namespace Whisper.Server.Realtime;

public static class RealtimeExtensions
{
    public static IHostApplicationBuilder AddWhisperRealtime(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSignalR()
            .AddJsonProtocol(options => OperationsExtensions.ConfigureJson(options.PayloadSerializerOptions))
            .AddMessagePackProtocol();
        // The hub reads its own HubOptions<ChatHub>, which SignalR fills from the global options before
        // ours would apply: configure the hub's options themselves.
        services.AddOptions<HubOptions<ChatHub>>().Configure<IOptions<WhisperOptions>>((hub, whisper) =>
        {
            var realtime = whisper.Value.Realtime;
            hub.KeepAliveInterval = realtime.KeepAliveInterval;
            hub.ClientTimeoutInterval = realtime.ClientTimeout;
            hub.MaximumReceiveMessageSize = 64 * 1024;
            hub.EnableDetailedErrors = false;
        });
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<HubSendThrottle>();
        services.AddScoped<ChatNotifier>();
        return builder;
    }

    public static WebApplication MapWhisperHub(this WebApplication app)
    {
        var realtime = app.Services.GetRequiredService<IOptions<WhisperOptions>>().Value.Realtime;
        app.MapHub<ChatHub>("/hubs/chat", options =>
        {
            // A revoked or expired token ends the connection; the client reconnects with a fresh one.
            options.CloseOnAuthenticationExpiration = true;
            // Back-pressure: at most this much is buffered for a client, and a client that stops reading
            // is disconnected after the send timeout (it catches up with after=seq when it returns).
            options.TransportMaxBufferSize = realtime.MaxBufferBytes;
            options.ApplicationMaxBufferSize = realtime.MaxBufferBytes;
            options.TransportSendTimeout = realtime.SendTimeout;
        });
        return app;
    }
}
