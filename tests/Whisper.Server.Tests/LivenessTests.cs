using System.Net.Http.Json;
using Whisper.Client;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests;

/// <summary>Short liveness settings, so that timeouts are reached within a test's bounded wait.</summary>
public sealed class LivenessServer() : WhisperServer(new Dictionary<string, string?>
{
    ["Whisper:Realtime:KeepAliveInterval"] = "00:00:01",
    ["Whisper:Realtime:ClientTimeout"] = "00:00:03",
    ["Whisper:Realtime:SendTimeout"] = "00:00:02",
    ["Whisper:Realtime:MaxBufferBytes"] = "16384",
});

public sealed class LivenessTests(LivenessServer server) : IClassFixture<LivenessServer>
{
    private async Task<(TestUser Watcher, TestUser Subject, Device WatcherDevice, Guid ChatId)> WatchedPairAsync()
    {
        var (watcher, subject) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await watcher.DirectChatWithAsync(subject);
        var device = await Device.ConnectAsync(server, watcher, keepAlive: TimeSpan.FromSeconds(1));
        return (watcher, subject, device, chat.Id);
    }

    [Fact]
    public async Task A_device_that_goes_silent_turns_offline_within_the_client_timeout()
    {
        var (_, subject, watcher, _) = await WatchedPairAsync();
        await using var _ = watcher;
        await using var silent = await RawHubSocket.ConnectAsync(server, subject);
        await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == subject.Id && p.Online);

        // One ping, then nothing more, and it never closes: like a phone that lost its network.
        await silent.PingAsync(CancellationToken.None);
        var offline = await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == subject.Id && !p.Online);

        Assert.NotNull(offline.LastSeenAt);
    }

    [Fact]
    public async Task A_dropped_socket_without_a_close_frame_turns_offline()
    {
        var (_, subject, watcher, _) = await WatchedPairAsync();
        await using var _ = watcher;
        await using var crashing = await RawHubSocket.ConnectAsync(server, subject);
        await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == subject.Id && p.Online);

        crashing.Abort();

        await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == subject.Id && !p.Online);
    }

    [Fact]
    public async Task Connections_cut_while_the_server_sets_them_up_do_not_leave_their_user_online()
    {
        var (watcher, subject, watcherDevice, _) = await WatchedPairAsync();
        await using var _ = watcherDevice;

        // The cut lands at a different moment of the set-up each time; some land in the middle of it.
        for (var i = 0; i < 100; i++)
        {
            await RawHubSocket.ConnectAndAbortDuringSetUpAsync(server.BaseAddress, subject);
        }

        await Waits.UntilAsync(async () => (await watcher.GetAsync<Users.LastSeenDto>($"/api/users/{subject.Id}/last-seen")).Online == false,
            "the user to be offline again");
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_disconnected_and_does_not_hold_up_the_others()
    {
        var (sender, stalled, healthy) = (await server.RegisterAsync(), await server.RegisterAsync(), await server.RegisterAsync());
        var group = await sender.GroupAsync("busy", stalled, healthy);
        await using var watcher = await Device.ConnectAsync(server, healthy, keepAlive: TimeSpan.FromSeconds(1));
        await using var raw = await RawHubSocket.ConnectAsync(server, stalled);
        await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == stalled.Id && p.Online);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // It keeps pinging, so only the send timeout can tell it is not reading.
        var pinging = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await raw.PingAsync(stop.Token);
                    await Task.Delay(500, stop.Token);
                }
                catch (Exception exception) when (exception is OperationCanceledException or System.Net.WebSockets.WebSocketException)
                {
                    return;
                }
            }
        });
        bool Dropped() => watcher.All<PresenceUpdate>("presenceChanged").Any(p => p.UserId == stalled.Id && !p.Online);
        var payload = new string('x', 4000);
        var sent = new List<Guid>();
        // Enough to fill every buffer between the server and the socket that is not read (kernel and
        // pipes hold a few megabytes), bounded in count.
        for (var batch = 0; batch < 200 && !Dropped(); batch++)
        {
            var messages = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => sender.SendAsync(group.Id, payload)));
            sent.AddRange(messages.Select(m => m.Id));
        }

        await watcher.WaitFor<PresenceUpdate>("presenceChanged", p => p.UserId == stalled.Id && !p.Online);
        await stop.CancelAsync();
        await pinging;
        var last = sent[^1];
        await watcher.WaitForMessage(m => m.Id == last);
        Assert.All(sent, id => Assert.Equal(1, watcher.CopiesOf(id)));
    }

    [Fact]
    public async Task The_client_library_catches_up_exactly_once_in_order_after_being_offline()
    {
        var (alice, bob) = (await server.RegisterAsync(), await server.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        using var bobClient = new WhisperClient(server.BaseAddress);
        await bobClient.LoginAsync(bob.Username, TestUser.Password);

        long lastSeq;
        await using (var hub = await WhisperHub.ConnectAsync(bobClient))
        {
            for (var i = 1; i <= 3; i++)
            {
                await alice.SendAsync(chat.Id, $"live {i}");
            }

            Assert.Equal([1L, 2L, 3L], await ReadSeqsAsync(hub, until: 3));
            lastSeq = hub.LastSeqOf(chat.Id)!.Value;
        }

        for (var i = 4; i <= 8; i++)
        {
            await alice.SendAsync(chat.Id, $"while offline {i}");
        }

        // The app stored the last seq it showed; a new connection resumes from there.
        await using var resumed = await WhisperHub.ConnectAsync(bobClient, resumeFrom: new Dictionary<Guid, long> { [chat.Id] = lastSeq });
        await alice.SendAsync(chat.Id, "live again");

        Assert.Equal([4L, 5L, 6L, 7L, 8L, 9L], await ReadSeqsAsync(resumed, until: 9));
        await resumed.CatchUpAsync();
        Assert.Equal(9, resumed.LastSeqOf(chat.Id));
    }

    [Fact]
    public async Task The_client_library_reconnects_when_the_server_closes_on_token_expiry_and_misses_nothing()
    {
        await using var shortTokens = new WhisperServer(new Dictionary<string, string?> { ["Whisper:Jwt:AccessTokenLifetime"] = "00:00:04" });
        var (alice, bob) = (await shortTokens.RegisterAsync(), await shortTokens.RegisterAsync());
        var chat = await alice.DirectChatWithAsync(bob);
        using var bobClient = new WhisperClient(shortTokens.BaseAddress);
        await bobClient.LoginAsync(bob.Username, TestUser.Password);
        await using var hub = await WhisperHub.ConnectAsync(bobClient, maxRetryDelay: TimeSpan.FromSeconds(1));
        var reconnected = new TaskCompletionSource();
        hub.Reconnected += () => reconnected.TrySetResult();

        // Alice keeps writing (with her own short-lived token refreshed by the library) across Bob's reconnect.
        using var aliceClient = new WhisperClient(shortTokens.BaseAddress);
        await aliceClient.LoginAsync(alice.Username, TestUser.Password);
        var seq = 0L;
        while (!reconnected.Task.IsCompleted && seq < 200)
        {
            seq = (await aliceClient.SendMessageAsync(chat.Id, new NewMessage($"m{seq + 1}", ClientMessageId: $"m{seq + 1}"))).Seq;
            await Task.WhenAny(reconnected.Task, Task.Delay(100));
        }

        await reconnected.Task.WaitAsync(Waits.Event);
        var last = (await aliceClient.SendMessageAsync(chat.Id, new NewMessage("after reconnect"))).Seq;

        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), await ReadSeqsAsync(hub, until: last));
    }

    private static async Task<List<long>> ReadSeqsAsync(WhisperHub hub, long until)
    {
        var seqs = new List<long>();
        using var timeout = new CancellationTokenSource(Waits.Event);
        await foreach (var message in hub.ReadMessagesAsync(timeout.Token))
        {
            seqs.Add(message.Seq);
            if (message.Seq >= until)
            {
                break;
            }
        }

        return seqs;
    }
}
