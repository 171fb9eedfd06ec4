using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Whisper.Server.Common;
using Whisper.Server.Operations;
using Whisper.Server.Presence;

namespace Whisper.Server.Realtime;

public static class RealtimeExtensions
{
    /// <summary>
    /// The hub, in-process by default; with <c>Whisper:Redis</c> set, the SignalR Redis backplane,
    /// presence in Redis and cluster events on Redis pub/sub, so any number of nodes act as one.
    /// </summary>
    public static IHostApplicationBuilder AddWhisperRealtime(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var signalR = services.AddSignalR()
            .AddJsonProtocol(options => OperationsExtensions.ConfigureJson(options.PayloadSerializerOptions))
            .AddMessagePackProtocol()
            // AddHubOptions, not AddOptions: it copies the global options into the hub's and marks them as
            // set, without which SignalR reads the size limit from the global options (32 KB) instead.
            .AddHubOptions<ChatHub>(hub =>
            {
                hub.MaximumReceiveMessageSize = 64 * 1024;
                hub.EnableDetailedErrors = false;
                hub.AddFilter<DepartedCallerFilter>();
                hub.AddFilter<UnavailableDependencyFilter>();
            });
        services.AddOptions<HubOptions<ChatHub>>().Configure<IOptions<WhisperOptions>>((hub, whisper) =>
        {
            var realtime = whisper.Value.Realtime;
            hub.KeepAliveInterval = realtime.KeepAliveInterval;
            hub.ClientTimeoutInterval = realtime.ClientTimeout;
        });
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<HubSendThrottle>();
        services.AddSingleton<LocalClusterEvents>();
        services.AddScoped<ChatNotifier>();

        // Whether to use Redis decides which services exist, so it is read here, from the configuration
        // the host starts with (appsettings, environment, command line).
        if (builder.Configuration["Whisper:Redis"] is { Length: > 0 } redis)
        {
            var configuration = ConfigurationOptions.Parse(redis);
            configuration.AbortOnConnectFail = false;
            configuration.ChannelPrefix = RedisChannel.Literal("whisper");
            var multiplexer = new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(configuration));
            services.AddSingleton(_ => multiplexer.Value);
            // The backplane opens and closes a connection of its own: sharing ours, it disposed it at shutdown
            // while the container did too, and whichever came second failed the host's disposal.
            signalR.AddStackExchangeRedis(options => options.Configuration = configuration.Clone());
            services.AddSingleton<RedisPresenceTracker>();
            services.AddSingleton<IPresenceTracker>(provider => provider.GetRequiredService<RedisPresenceTracker>());
            services.AddHostedService(provider => provider.GetRequiredService<RedisPresenceTracker>());
            services.AddSingleton<RedisClusterEvents>();
            services.AddSingleton<IClusterEvents>(provider => provider.GetRequiredService<RedisClusterEvents>());
            services.AddHostedService(provider => provider.GetRequiredService<RedisClusterEvents>());
            services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"], timeout: RedisHealthCheck.Timeout);
        }
        else
        {
            services.AddSingleton<IPresenceTracker, InMemoryPresenceTracker>();
            services.AddSingleton<IClusterEvents>(provider => provider.GetRequiredService<LocalClusterEvents>());
        }

        return builder;
    }

    public static WebApplication MapWhisperHub(this WebApplication app)
    {
        var realtime = app.Services.GetRequiredService<IOptions<WhisperOptions>>().Value.Realtime;
        app.MapHub<ChatHub>("/hubs/chat", options =>
        {
            // A revoked or expired token ends the connection; the client reconnects with a fresh one.
            options.CloseOnAuthenticationExpiration = true;
            // What the server sends is never held back for a slow client: with the Redis backplane a group's
            // events are handed to its local members one event at a time, each awaiting every member's write,
            // so back-pressure from one member that stopped reading held up the whole group on that node until
            // the send timeout. Such a client is disconnected after the send timeout instead (it catches up
            // with after=seq when it returns); what it was sent meanwhile is buffered until then.
            options.TransportMaxBufferSize = 0;
            // What a client sends is bounded: at most this much is buffered before back-pressure applies.
            options.ApplicationMaxBufferSize = realtime.MaxBufferBytes;
            options.TransportSendTimeout = realtime.SendTimeout;
        });
        return app;
    }
}
