using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>What a message carries: an image that really loads, and markup that stays text.</summary>
public sealed class FileAndSafetyTests(E2EFixture fixture)
{
    [Fact]
    public async Task An_uploaded_image_is_shown_loaded_on_the_other_side()
    {
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        var chatId = await alice.StartDirectChatAsync(bob);
        await bob.OpenChatAsync(chatId);

        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload
        {
            Name = "gradient.png",
            MimeType = "image/png",
            Buffer = PngImage.Gradient(320, 200),
        });

        var received = bob.Page.GetByTestId("message-bubble").Filter(new LocatorFilterOptions { Has = bob.Page.GetByTestId("attachment-image") });
        await Expect(received).ToHaveCountAsync(1);
        await Expect(received.GetByTestId("message-attachment")).ToHaveAttributeAsync("data-kind", "image");
        var image = received.GetByTestId("attachment-image");
        await Expect(image).ToHaveAttributeAsync("alt", "gradient.png");
        Assert.Equal(320, await LoadedWidthAsync(bob.Page, image));

        var sent = alice.Page.GetByTestId("message-bubble").Filter(new LocatorFilterOptions { Has = alice.Page.GetByTestId("attachment-image") });
        Assert.Equal(320, await LoadedWidthAsync(alice.Page, sent.GetByTestId("attachment-image")));
        await Expect(sent).ToHaveAttributeAsync("data-status", "read");
        await Expect(bob.ChatItem(chatId).GetByTestId("chat-item-preview")).Not.ToBeEmptyAsync();
    }

    [Fact]
    public async Task Html_and_script_in_a_message_are_shown_literally_and_never_run()
    {
        const string payload = "<img src=x onerror=alert(1)><script>alert(2)</script>";
        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob");
        var chatId = await alice.StartDirectChatAsync(bob);

        await alice.SendAsync(payload);
        await Expect(bob.ChatItem(chatId).GetByTestId("chat-item-preview")).ToHaveTextAsync(payload);
        await bob.OpenChatAsync(chatId);

        var text = bob.Bubble(payload).GetByTestId("message-text");
        await Expect(text).ToHaveTextAsync(payload);
        Assert.Equal(0, await text.EvaluateAsync<int>("e => e.children.length"));
        Assert.Equal(0, await bob.Page.GetByTestId("message-list").Locator("img, script").CountAsync());
        await Expect(alice.Bubble(payload).GetByTestId("message-text")).ToHaveTextAsync(payload);

        // A round trip after it, so a handler that would have fired on the broken image had its time.
        await bob.SendAsync("seen it");
        await Expect(alice.Bubble("seen it")).ToHaveCountAsync(1);
        await Expect(alice.Bubble(payload)).ToHaveAttributeAsync("data-status", "read");
        Assert.Empty(bob.Dialogs);
        Assert.Empty(alice.Dialogs);
        Assert.Empty(bob.PageErrors);
    }

    /// <summary>Waits until the &lt;img&gt; has really loaded (decoded, naturalWidth &gt; 0) and returns its width.</summary>
    private static async Task<int> LoadedWidthAsync(IPage page, ILocator image)
    {
        await image.ScrollIntoViewIfNeededAsync();
        var handle = await image.ElementHandleAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", handle, new PageWaitForFunctionOptions { Timeout = E2EFixture.WaitMs });
        return await handle.EvaluateAsync<int>("img => img.naturalWidth");
    }
}
