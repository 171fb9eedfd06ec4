using System.Text.RegularExpressions;
using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>The connection drops and comes back: what was typed meanwhile arrives once, nothing is lost.</summary>
public sealed class OfflineTests(E2EFixture fixture)
{
    [Fact]
    public async Task Messages_sent_while_offline_arrive_exactly_once_after_the_connection_returns()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        var network = await ConnectionCutter.InstallAsync(alice.Context);
        var chatId = await alice.StartDirectChatAsync(bob);
        await alice.SendAsync("Before the drop");
        // Stored before the reload below: a reload cutting a send short is not what this test is about.
        await Expect(alice.Bubble("Before the drop")).ToHaveAttributeAsync("data-status", new Regex("^(sent|delivered|read)$"));
        await bob.OpenChatAsync(chatId);
        await Expect(bob.Bubble("Before the drop")).ToHaveCountAsync(1);

        // Reconnect Alice's page through the cutter, then check everything is live.
        await alice.Page.ReloadAsync();
        var banner = alice.Page.GetByTestId("offline-banner");
        await Expect(alice.Bubble("Before the drop")).ToHaveAttributeAsync("data-status", "read");
        await Expect(banner).ToBeHiddenAsync();
        await Expect(bob.Page.GetByTestId("presence-line")).ToHaveTextAsync("online");
        Assert.Equal(1, network.SocketsOpened);

        // The network goes: Alice sees it, and the server really lost her (Bob sees "last seen").
        await network.DropAsync();
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToHaveAttributeAsync("data-state", "offline");
        await Expect(bob.Page.GetByTestId("presence-line")).ToHaveTextAsync(new Regex("^last seen "));


        // Alice writes two messages while offline; Bob writes one too.
        await alice.SendAsync("Written offline 1");
        await alice.SendAsync("Written offline 2");
        await Expect(alice.Bubble("Written offline 1")).ToHaveAttributeAsync("data-status", "pending");
        await Expect(alice.Bubble("Written offline 2")).ToHaveAttributeAsync("data-status", "pending");
        await Expect(banner).ToContainTextAsync("2 messages will be sent when you are back");
        await bob.SendAsync("Bob while Alice is away");
        await Expect(bob.Bubble("Bob while Alice is away")).ToHaveAttributeAsync("data-status", "sent");
        Assert.Equal(0, await bob.Bubble("Written offline 1").CountAsync());
        Assert.Equal(0, await alice.Bubble("Bob while Alice is away").CountAsync());

        // SignalR's own reconnect attempts come at 0 s, 2 s and 7 s after the drop, and all fail while
        // offline; its next one would only come 10 s later. So a reconnect within 6 s of the network's
        // return is the client reacting to the browser's "online" event, as a person expects.
        await Eventually.TrueAsync(() => network.FailedReconnects >= 3, "the hub has tried to reconnect three times");

        // The network returns: the hub reconnects, the outbox is sent, the missed message is fetched.
        await network.RestoreAsync();
        await Expect(banner).ToBeHiddenAsync(new LocatorAssertionsToBeHiddenOptions { Timeout = 6_000 });
        await Expect(bob.Bubble("Written offline 1")).ToHaveCountAsync(1);
        await Expect(bob.Bubble("Written offline 2")).ToHaveCountAsync(1);
        await Expect(alice.Bubble("Bob while Alice is away")).ToHaveCountAsync(1);
        await Expect(alice.Bubble("Written offline 1")).ToHaveAttributeAsync("data-status", "read");
        await Expect(alice.Bubble("Written offline 2")).ToHaveAttributeAsync("data-status", "read");
        await Expect(bob.Bubble("Bob while Alice is away")).ToHaveAttributeAsync("data-status", "read");
        await Expect(bob.Page.GetByTestId("presence-line")).ToHaveTextAsync("online");
        Assert.True(network.SocketsOpened >= 2, "the hub should have opened a new socket");

        // Exactly once and in order, live and in the server's history (a reload shows what is stored).
        // Bob's message was stored first, so it comes first for both: one order, the server's seq.
        string[] conversation = ["Before the drop", "Bob while Alice is away", "Written offline 1", "Written offline 2"];
        await Expect(bob.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
        await bob.Page.ReloadAsync();
        await Expect(bob.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
        await Expect(alice.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
        await alice.Page.ReloadAsync();
        await Expect(alice.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
    }
}
