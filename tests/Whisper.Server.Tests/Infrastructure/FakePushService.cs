using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Whisper.Server.Push;

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// A push service on loopback: records every request and answers with scripted statuses per
/// subscription (201 once the script runs out), the way FCM or Mozilla's autopush would.
/// </summary>
public sealed class FakePushService : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> scripts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Received>> received = new();
    private readonly SemaphoreSlim arrived = new(0);

    public sealed record Received(string Authorization, string? Ttl, string? Urgency, string? Topic, string? ContentEncoding, byte[] Body);

    private FakePushService(WebApplication app)
    {
        this.app = app;
        app.MapPost("/push/{id}", async (string id, HttpRequest request, HttpResponse response) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.GetOrAdd(id, _ => new()).Enqueue(new Received(
                request.Headers.Authorization.ToString(), request.Headers["TTL"], request.Headers["Urgency"], request.Headers["Topic"],
                request.Headers.ContentEncoding, body.ToArray()));
            arrived.Release();
            var status = scripts.TryGetValue(id, out var script) && script.TryDequeue(out var scripted) ? scripted : StatusCodes.Status201Created;
            if (status == StatusCodes.Status429TooManyRequests)
            {
                response.Headers.RetryAfter = "0";
            }

            return Results.StatusCode(status);
        });
    }

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<FakePushService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var service = new FakePushService(builder.Build());
        await service.app.StartAsync();
        service.BaseAddress = new Uri(service.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return service;
    }

    public string EndpointFor(string id) => new Uri(BaseAddress, $"push/{id}").ToString();

    /// <summary>The next answers for that subscription, in order.</summary>
    public void Script(string id, params int[] statuses) => scripts[id] = new ConcurrentQueue<int>(statuses);

    public IReadOnlyList<Received> ReceivedBy(string id) => received.TryGetValue(id, out var queue) ? queue.ToList() : [];

    public async Task<IReadOnlyList<Received>> WaitForAsync(string id, int count)
    {
        using var timeout = new CancellationTokenSource(Waits.Event);
        while (ReceivedBy(id).Count < count)
        {
            try
            {
                await arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Subscription {id} got {ReceivedBy(id).Count} pushes, expected {count}.");
            }
        }

        return ReceivedBy(id);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        arrived.Dispose();
    }
}

/// <summary>A browser's push subscription: its own key pair and auth secret, so it can decrypt what it receives.</summary>
public sealed class PushSubscriber : IDisposable
{
    private readonly ECDiffieHellman key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public PushSubscriber(string endpoint) => Endpoint = endpoint;

    public string Endpoint { get; }

    public byte[] AuthSecret { get; } = RandomNumberGenerator.GetBytes(16);

    public object Json => new { endpoint = Endpoint, keys = new { p256dh = Base64Url.Encode(WebPushEncryption.PublicKeyBytes(key)), auth = Base64Url.Encode(AuthSecret) } };

    public PushPayload Open(byte[] body) => JsonSerializer.Deserialize<PushPayload>(Decrypt(body, key, AuthSecret), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    /// <summary>What a browser does with an aes128gcm push (RFC 8188 and 8291), written here from the RFCs.</summary>
    public static byte[] Decrypt(byte[] body, ECDiffieHellman userAgentKey, byte[] authSecret)
    {
        var salt = body[..16];
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(16)));
        var keyLength = body[20];
        var serverPublicKey = body[21..(21 + keyLength)];
        var cipher = body[(21 + keyLength)..];
        using var server = WebPushEncryption.ImportPublicKey(serverPublicKey);
        var secret = userAgentKey.DeriveRawSecretAgreement(server.PublicKey);
        byte[] keyInfo = [.. "WebPush: info\0"u8, .. WebPushEncryption.PublicKeyBytes(userAgentKey), .. serverPublicKey];
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, authSecret, keyInfo);
        var contentKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 16, salt, "Content-Encoding: aes128gcm\0"u8.ToArray());
        var nonce = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 12, salt, "Content-Encoding: nonce\0"u8.ToArray());
        var plain = new byte[cipher.Length - 16];
        using var aes = new AesGcm(contentKey, 16);
        aes.Decrypt(nonce, cipher[..^16], cipher[^16..], plain);
        var end = Array.FindLastIndex(plain, b => b != 0);
        Assert.Equal(2, plain[end]);
        return plain[..end];
    }

    public void Dispose() => key.Dispose();
}
