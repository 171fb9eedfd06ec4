using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>Three people: a group is created, gains and loses a member, and gets a second admin.</summary>
public sealed class GroupTests(E2EFixture fixture)
{
    [Fact]
    public async Task A_group_adds_a_member_promotes_an_admin_and_the_removed_member_loses_the_chat()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        await using var carol = await Person.RegisterAsync(fixture, "Carol");
        var name = "Team " + Guid.NewGuid().ToString("N")[..6];

        // Alice creates the group with Bob; it appears in Bob's list at once.
        var chatId = await alice.CreateGroupAsync(name, bob);
        await Expect(alice.Page.GetByTestId("presence-line")).ToHaveTextAsync("2 members");
        await alice.SendAsync("Welcome to the team");
        await Expect(bob.ChatItem(chatId)).ToHaveAttributeAsync("data-chat-name", name);
        await bob.OpenChatAsync(chatId);
        var welcome = bob.Bubble("Welcome to the team");
        await Expect(welcome.GetByTestId("message-sender")).ToHaveTextAsync("Alice");
        await Expect(alice.Bubble("Welcome to the team")).ToHaveAttributeAsync("data-status", "read");

        // Alice adds Carol from the group info; Carol gets the chat and can read and write.
        await alice.Page.GetByTestId("chat-info-button").ClickAsync();
        var info = alice.Page.GetByTestId("chat-info-dialog");
        await Expect(Member(info, alice)).ToHaveAttributeAsync("data-role", "owner");
        await Expect(Member(info, bob)).ToHaveAttributeAsync("data-role", "member");
        await info.GetByTestId("group-add-open").ClickAsync();
        await Person.PickUserAsync(info, carol);
        await info.GetByTestId("group-add-members").ClickAsync();
        await Expect(Member(info, carol)).ToHaveAttributeAsync("data-role", "member");
        await Expect(info.GetByTestId("group-member")).ToHaveCountAsync(3);
        await Expect(carol.ChatItem(chatId)).ToHaveAttributeAsync("data-chat-name", name);
        await carol.OpenChatAsync(chatId);
        await Expect(carol.Page.GetByTestId("presence-line")).ToHaveTextAsync("3 members");
        await Expect(carol.Bubble("Welcome to the team")).ToHaveCountAsync(1);
        await carol.SendAsync("Hi all, Carol here");
        await Expect(bob.Bubble("Hi all, Carol here").GetByTestId("message-sender")).ToHaveTextAsync("Carol");
        await Expect(alice.Bubble("Hi all, Carol here")).ToHaveCountAsync(1);

        // Alice (the owner) makes Bob an admin; Bob sees his new role.
        await Member(info, bob).GetByTestId("member-promote").ClickAsync();
        await Expect(Member(info, bob)).ToHaveAttributeAsync("data-role", "admin");
        await Expect(Member(info, bob).GetByTestId("member-role")).ToHaveTextAsync("admin");
        await bob.Page.GetByTestId("chat-info-button").ClickAsync();
        var bobInfo = bob.Page.GetByTestId("chat-info-dialog");
        await Expect(Member(bobInfo, bob)).ToHaveAttributeAsync("data-role", "admin");

        // As an admin, Bob can now remove Carol, who loses the chat at once.
        await Expect(Member(bobInfo, alice).GetByTestId("member-remove")).ToHaveCountAsync(0); // never the owner
        await Member(bobInfo, carol).GetByTestId("member-remove").ClickAsync();
        await Expect(Member(bobInfo, carol)).ToHaveCountAsync(0);
        await Expect(bobInfo.GetByTestId("group-error")).ToHaveCountAsync(0);
        await Expect(carol.ChatItem(chatId)).ToHaveCountAsync(0);
        await Expect(carol.Page.GetByTestId("chat-view")).ToHaveCountAsync(0);
        await Expect(Member(info, carol)).ToHaveCountAsync(0);
        await Expect(alice.Page.GetByTestId("presence-line")).ToHaveTextAsync("2 members");

        // The group goes on without her: she does not get what is said next, even after a reload.
        await bob.Page.GetByTestId("dialog-close").ClickAsync();
        await bob.SendAsync("Carol has moved on");
        await Expect(alice.Bubble("Carol has moved on")).ToHaveCountAsync(1);
        await carol.Page.ReloadAsync();
        await Expect(carol.Page.GetByTestId("chat-list")).ToBeVisibleAsync();
        await Expect(carol.ChatItem(chatId)).ToHaveCountAsync(0);
        await carol.Page.GotoAsync($"/chats/{chatId}");
        await Expect(carol.Page.GetByText("This chat is not available")).ToBeVisibleAsync();
        await Expect(carol.Bubble("Carol has moved on")).ToHaveCountAsync(0);
    }

    private static ILocator Member(ILocator dialog, Person person) =>
        dialog.Locator($"[data-testid=group-member][data-username='{person.Username}']");
}
