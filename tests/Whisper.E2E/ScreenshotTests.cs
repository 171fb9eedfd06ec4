using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>
/// Takes the README's pictures of the main screens from a real run: login, the two-pane desktop chat,
/// the one-pane phone chat, group info, dark mode. They go to docs/screenshots only when
/// WHISPER_UPDATE_SCREENSHOTS=1 (so a test run leaves the working tree as it was), else to a temp folder.
/// </summary>
public sealed class ScreenshotTests(E2EFixture fixture)
{
    [Fact]
    public async Task Main_screens()
    {
        var folder = ScreenshotFolder();

        // Login, as a new visitor sees it.
        var visitor = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Server.BaseAddress.ToString(), ViewportSize = Person.Desktop });
        var login = await visitor.NewPageAsync();
        await login.GotoAsync("/");
        await Expect(login.GetByTestId("login-form")).ToBeVisibleAsync();
        await ShotAsync(login, folder, "login.png");
        await visitor.CloseAsync();

        await using var alice = await Person.RegisterAsync(fixture, "Alice");
        await using var bob = await Person.RegisterAsync(fixture, "Bob", Person.Phone);
        await using var carol = await Person.RegisterAsync(fixture, "Carol");

        // A conversation with an image, every tick state reached, and a group beside it in the list.
        var groupId = await alice.CreateGroupAsync("Weekend hike", bob, carol);
        await alice.SendAsync("Saturday 9:00 at the station?");
        await carol.OpenChatAsync(groupId);
        await carol.SendAsync("I'm in! Bringing sandwiches 🥪");
        var chatId = await alice.StartDirectChatAsync(bob);
        await alice.SendAsync("Hi Bob! Did you see the photos from last weekend?");
        await bob.OpenChatAsync(chatId);
        await bob.SendAsync("Not yet, send them over!");
        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "sunset.png", MimeType = "image/png", Buffer = PngImage.Gradient(480, 300) });
        await Expect(bob.Page.GetByTestId("attachment-image")).ToHaveCountAsync(1);
        await alice.SendAsync("That was the view from the top 🌄");
        await Expect(alice.Bubble("That was the view from the top 🌄")).ToHaveAttributeAsync("data-status", "read");
        await bob.SendAsync("Wow, beautiful. Let's go again on Saturday");
        await Expect(alice.Bubble("Wow, beautiful. Let's go again on Saturday")).ToHaveCountAsync(1);
        await bob.Page.GetByTestId("composer-input").PressSequentiallyAsync("Sure");
        await Expect(alice.Page.GetByTestId("typing-indicator")).ToHaveAttributeAsync("data-active", "true");
        await WaitForImagesAsync(alice.Page);
        await ShotAsync(alice.Page, folder, "chat-desktop.png");

        await WaitForImagesAsync(bob.Page);
        await ShotAsync(bob.Page, folder, "chat-phone.png");

        // Group info, as the owner sees it (the notifications prompt, shown above, is put away).
        await alice.Page.GetByTestId("push-dismiss").ClickAsync();
        await alice.OpenChatAsync(groupId);
        await alice.Page.GetByTestId("chat-info-button").ClickAsync();
        await Expect(alice.Page.GetByTestId("chat-info-dialog").GetByTestId("group-member")).ToHaveCountAsync(3);
        await ShotAsync(alice.Page, folder, "group-info.png");

        // Dark mode: the same person, the same chat, in a browser that prefers dark.
        await alice.Page.GetByTestId("dialog-close").ClickAsync();
        await alice.Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark });
        await alice.OpenChatAsync(chatId);
        await WaitForImagesAsync(alice.Page);
        await ShotAsync(alice.Page, folder, "dark.png");
    }

    private static async Task WaitForImagesAsync(IPage page)
    {
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)",
            null,
            new PageWaitForFunctionOptions { Timeout = E2EFixture.WaitMs });
    }

    private static async Task ShotAsync(IPage page, string folder, string name)
    {
        var path = Path.Combine(folder, name);
        await page.Mouse.MoveAsync(0, 0); // no hover effects in the picture
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, Animations = ScreenshotAnimations.Disabled });
        Assert.True(new FileInfo(path).Length > 1000, $"{path} should be a real picture");
    }

    /// <summary>docs/screenshots of the repository the tests were built from, when asked to update them.</summary>
    private static string ScreenshotFolder()
    {
        if (Environment.GetEnvironmentVariable("WHISPER_UPDATE_SCREENSHOTS") != "1")
        {
            return Directory.CreateTempSubdirectory("whisper-screenshots").FullName;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Whisper.slnx")))
            {
                var folder = Path.Combine(dir.FullName, "docs", "screenshots");
                Directory.CreateDirectory(folder);
                return folder;
            }
        }

        throw new InvalidOperationException($"Whisper.slnx not found above {AppContext.BaseDirectory}");
    }
}
