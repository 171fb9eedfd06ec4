using System.Text.RegularExpressions;
using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>Two people in two browsers: a direct chat, receipts, typing, presence and a reload.</summary>
public sealed class DirectChatTests(E2EFixture fixture)
{
    [Fact]
    public async Task Messages_go_both_ways_and_ticks_go_from_sent_to_delivered_to_read()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");

        // Bob closes his tab: what Alice sends now is stored but reaches no device of his.
        await bob.ClosePageAsync();
        var chatId = await alice.StartDirectChatAsync(bob);
        await alice.SendAsync("Hello Bob");
        var first = alice.Bubble("Hello Bob");
        await Expect(first).ToHaveAttributeAsync("data-status", "sent");
        await Expect(first.GetByTestId("message-status")).ToHaveTextAsync("✓");

        // Bob opens Whisper on his chat list: the message reaches his device, but he has not looked at it.
        await bob.OpenPageAsync("/");
        await Expect(bob.ChatItem(chatId)).ToHaveAttributeAsync("data-unread", "1");
        await Expect(bob.ChatItem(chatId).GetByTestId("chat-item-preview")).ToHaveTextAsync("Hello Bob");
        await Expect(first).ToHaveAttributeAsync("data-status", "delivered");
        await Expect(first.GetByTestId("message-status")).ToHaveTextAsync("✓✓");
        var deliveredColour = await TickColourAsync(first);

        // He opens the chat and sees it: read, and the ticks turn blue.
        await bob.OpenChatAsync(chatId);
        await Expect(bob.Bubble("Hello Bob")).ToHaveAttributeAsync("data-mine", "false");
        await Expect(first).ToHaveAttributeAsync("data-status", "read");
        await Expect(first.GetByTestId("message-status")).ToHaveTextAsync("✓✓");
        var readColour = await TickColourAsync(first);
        Assert.NotEqual(deliveredColour, readColour);
        Assert.True(readColour.B > readColour.R + 60 && readColour.B > readColour.G, $"read ticks should be blue, were {readColour}");
        await Expect(bob.ChatItem(chatId)).ToHaveAttributeAsync("data-unread", "0");

        // And the other way round, while both have the chat open.
        await bob.SendAsync("Hi Alice!");
        await Expect(alice.Bubble("Hi Alice!")).ToHaveCountAsync(1);
        await Expect(bob.Bubble("Hi Alice!")).ToHaveAttributeAsync("data-status", "read");
        await alice.SendAsync("How are you?");
        await Expect(bob.Bubble("How are you?")).ToHaveCountAsync(1);
        await Expect(alice.Bubble("How are you?")).ToHaveAttributeAsync("data-status", "read");

        // Order is the same on both sides.
        string[] conversation = ["Hello Bob", "Hi Alice!", "How are you?"];
        await Expect(alice.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
        await Expect(bob.Page.GetByTestId("message-text")).ToHaveTextAsync(conversation);
        Assert.Empty(alice.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    [Fact]
    public async Task Typing_shows_on_the_other_side_and_presence_goes_from_online_to_last_seen()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        var chatId = await alice.StartDirectChatAsync(bob);
        await alice.SendAsync("Are you there?");
        await bob.OpenChatAsync(chatId);

        // Bob is connected: Alice's header says so.
        await Expect(alice.Page.GetByTestId("presence-line")).ToHaveTextAsync("online");
        await Expect(bob.Page.GetByTestId("presence-line")).ToHaveTextAsync("online");

        // Bob types (without sending): Alice sees it in the header and above her composer.
        var aliceTyping = alice.Page.GetByTestId("typing-indicator");
        await Expect(aliceTyping).ToHaveAttributeAsync("data-active", "false");
        await bob.Page.GetByTestId("composer-input").PressSequentiallyAsync("I am wri");
        await Expect(aliceTyping).ToHaveAttributeAsync("data-active", "true");
        await Expect(aliceTyping).ToContainTextAsync("typing");
        await Expect(alice.Page.GetByTestId("header-typing")).ToHaveTextAsync("typing…");

        // His message ends the indicator.
        await bob.Page.GetByTestId("composer-input").PressSequentiallyAsync("ting back");
        await bob.Page.GetByTestId("composer-input").PressAsync("Enter");
        await Expect(alice.Bubble("I am writing back")).ToHaveCountAsync(1);
        await Expect(aliceTyping).ToHaveAttributeAsync("data-active", "false");
        await Expect(alice.Page.GetByTestId("presence-line")).ToHaveTextAsync("online");

        // Bob closes his tab: he goes offline and Alice sees when he was last seen.
        await bob.ClosePageAsync();
        await Expect(alice.Page.GetByTestId("presence-line")).ToHaveTextAsync(new Regex("^last seen "));
        await Expect(alice.Page.GetByTestId("presence-line")).Not.ToHaveTextAsync("online");
    }

    [Fact]
    public async Task A_reload_keeps_the_session_the_open_chat_and_its_messages()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        var chatId = await alice.StartDirectChatAsync(bob);
        await alice.SendAsync("Before the reload");
        await Expect(alice.Bubble("Before the reload")).ToHaveAttributeAsync("data-status", "delivered");

        await alice.Page.ReloadAsync();

        await Expect(alice.Page).ToHaveURLAsync(new Regex($"/chats/{chatId}$"));
        await Expect(alice.Page.GetByTestId("current-user")).ToHaveTextAsync("Alice");
        await Expect(alice.Page.GetByTestId("login-form")).ToHaveCountAsync(0);
        await Expect(alice.Bubble("Before the reload")).ToHaveCountAsync(1);
        await Expect(alice.Page.GetByTestId("offline-banner")).ToBeHiddenAsync();

        // Still live after the reload: a message both ways.
        await alice.SendAsync("After the reload");
        await Expect(bob.ChatItem(chatId).GetByTestId("chat-item-preview")).ToHaveTextAsync("After the reload");
        await bob.OpenChatAsync(chatId);
        await bob.SendAsync("Got both");
        await Expect(alice.Bubble("Got both")).ToHaveCountAsync(1);
    }

    private static async Task<Rgb> TickColourAsync(ILocator bubble)
    {
        var colour = await bubble.GetByTestId("message-status").EvaluateAsync<string>("e => getComputedStyle(e).color");
        var parts = Regex.Matches(colour, @"[\d.]+").Select(m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(parts.Length >= 3, $"unexpected colour {colour}");
        return new Rgb(parts[0], parts[1], parts[2]);
    }

    private sealed record Rgb(double R, double G, double B);
}
