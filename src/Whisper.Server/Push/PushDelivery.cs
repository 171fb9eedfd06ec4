using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Messages;
using Whisper.Server.Presence;

namespace Whisper.Server.Push;

/// <summary>
/// Messages waiting to be pushed. Storing a message only drops it in here, so a send never waits on
/// push services; when the queue is full (push services far behind) the newest notices are dropped.
/// </summary>
public sealed partial class PushQueue(ILogger<PushQueue> logger)
{
    private readonly Channel<MessageDto> queue = Channel.CreateBounded<MessageDto>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    public ChannelReader<MessageDto> Reader => queue.Reader;

    public void MessageStored(MessageDto message)
    {
        if (!queue.Writer.TryWrite(message))
        {
            LogDropped(message.Id);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Push queue full: no notification for message {MessageId}")]
    private partial void LogDropped(Guid messageId);
}

/// <summary>The JSON a browser's service worker receives (encrypted): enough to show and open the chat.</summary>
public sealed record PushPayload(Guid ChatId, Guid MessageId, long Seq, string Title, string Body, string Url);

/// <summary>
/// Drains the push queue: for each message, the members with no live connection anywhere get an
/// encrypted notification on each subscription; 404/410 answers drop the subscription, 429 and 5xx
/// are retried with back-off.
/// </summary>
public sealed partial class PushDelivery(
    PushQueue queue,
    ChatMembershipCache memberships,
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    VapidKeys vapid,
    IOptions<WhisperOptions> options,
    ILogger<PushDelivery> logger) : BackgroundService
{
    public const string HttpClientName = "WebPush";
    private const int PreviewLength = 200;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim inFlight = new(16);

    private PushOptions Push => options.Value.Push;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                foreach (var (subscription, payload) in await NotificationsForAsync(message, stoppingToken))
                {
                    await inFlight.WaitAsync(stoppingToken);
                    _ = DeliverAsync(subscription, payload, message.ChatId, stoppingToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogPlanFailed(exception, message.Id);
            }
        }
    }

    private async Task<List<(PushSubscription, byte[])>> NotificationsForAsync(MessageDto message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        var presence = scope.ServiceProvider.GetRequiredService<IPresenceTracker>();

        var members = await memberships.MembersAsync(message.ChatId, cancellationToken);
        var recipients = members.Where(id => id != message.SenderId).ToList();
        var online = await presence.OnlineAmongAsync(recipients);
        var offline = recipients.Where(id => !online.Contains(id)).ToList();
        if (offline.Count == 0)
        {
            return [];
        }

        var subscriptions = await db.PushSubscriptions.AsNoTracking().Where(s => offline.Contains(s.UserId)).ToListAsync(cancellationToken);
        if (subscriptions.Count == 0)
        {
            return [];
        }

        var sender = await db.Users.AsNoTracking().Where(u => u.Id == message.SenderId).Select(u => u.DisplayName).SingleAsync(cancellationToken);
        var chat = await db.Chats.AsNoTracking().Where(c => c.Id == message.ChatId).Select(c => new { c.Type, c.Name }).SingleAsync(cancellationToken);
        var preview = Preview(message);
        var payload = chat.Type == ChatType.Group
            ? new PushPayload(message.ChatId, message.Id, message.Seq, chat.Name ?? sender, $"{sender}: {preview}", $"/chats/{message.ChatId}")
            : new PushPayload(message.ChatId, message.Id, message.Seq, sender, preview, $"/chats/{message.ChatId}");
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(payload, Json);
        return subscriptions.Select(s => (s, plaintext)).ToList();
    }

    private async Task DeliverAsync(PushSubscription subscription, byte[] plaintext, Guid chatId, CancellationToken cancellationToken)
    {
        try
        {
            var endpoint = new Uri(subscription.Endpoint);
            var body = WebPushEncryption.Encrypt(plaintext, Base64Url.TryDecode(subscription.P256dh)!, Base64Url.TryDecode(subscription.Auth)!);
            var http = httpClients.CreateClient(HttpClientName);
            for (var attempt = 1; ; attempt++)
            {
                TimeSpan? wait;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new("application/octet-stream");
                    request.Content.Headers.ContentEncoding.Add("aes128gcm");
                    request.Headers.TryAddWithoutValidation("Authorization", vapid.AuthorizationFor(endpoint));
                    request.Headers.Add("TTL", ((long)Push.TimeToLive.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    request.Headers.Add("Urgency", "high");
                    // One topic per chat: a push service keeps only the newest undelivered notification of a chat.
                    request.Headers.Add("Topic", chatId.ToString("N"));
                    using var response = await http.SendAsync(request, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }

                    if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                    {
                        await ForgetAsync(subscription.Id, cancellationToken);
                        return;
                    }

                    if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500)
                    {
                        LogRefused(subscription.Id, (int)response.StatusCode);
                        return;
                    }

                    wait = response.Headers.RetryAfter?.Delta;
                }
                catch (HttpRequestException exception)
                {
                    LogUnreachable(exception, subscription.Id, attempt);
                    wait = null;
                }

                if (attempt >= Push.MaxAttempts)
                {
                    return;
                }

                var backOff = Push.RetryDelay * Math.Pow(2, attempt - 1);
                await Task.Delay(wait is { } asked && asked > backOff ? (asked < TimeSpan.FromMinutes(1) ? asked : TimeSpan.FromMinutes(1)) : backOff, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception exception)
        {
            LogDeliveryFailed(exception, subscription.Id);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task ForgetAsync(Guid subscriptionId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        await db.PushSubscriptions.Where(s => s.Id == subscriptionId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>What the notification says; within the 4 KB push payload limit by construction.</summary>
    private static string Preview(MessageDto message)
    {
        if (message.Content is { Length: > 0 } content)
        {
            var cut = content.Length > PreviewLength ? content[..(char.IsHighSurrogate(content[PreviewLength - 1]) ? PreviewLength - 1 : PreviewLength)] + "…" : content;
            return message.File is null ? cut : $"📎 {cut}";
        }

        return message.Type switch
        {
            MessageType.Image => "📷 Photo",
            MessageType.Video => "🎥 Video",
            MessageType.Audio => "🎤 Audio",
            _ => $"📎 {message.File?.Name ?? "File"}",
        };
    }

    [LoggerMessage(LogLevel.Error, "Could not plan notifications for message {MessageId}")]
    private partial void LogPlanFailed(Exception exception, Guid messageId);

    [LoggerMessage(LogLevel.Warning, "Push service refused subscription {SubscriptionId} with {Status}")]
    private partial void LogRefused(Guid subscriptionId, int status);

    [LoggerMessage(LogLevel.Information, "Push service of subscription {SubscriptionId} unreachable (attempt {Attempt})")]
    private partial void LogUnreachable(Exception exception, Guid subscriptionId, int attempt);

    [LoggerMessage(LogLevel.Error, "Push to subscription {SubscriptionId} failed")]
    private partial void LogDeliveryFailed(Exception exception, Guid subscriptionId);

    public override void Dispose()
    {
        inFlight.Dispose();
        base.Dispose();
    }
}

public static class PushExtensions
{
    public static IHostApplicationBuilder AddWhisperPush(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<VapidKeys>();
        services.AddSingleton<PushEndpointPolicy>();
        services.AddSingleton<PushQueue>();
        services.AddScoped<PushSubscriptions>();
        services.AddHostedService<PushDelivery>();
        services.AddHttpClient(PushDelivery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                ConnectCallback = provider.GetRequiredService<PushEndpointPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
            });
        return builder;
    }
}
