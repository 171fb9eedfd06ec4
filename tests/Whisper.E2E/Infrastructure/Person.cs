namespace Whisper.E2E.Infrastructure;

/// <summary>
/// One person at one browser: a browser context of their own (their own localStorage, so their own
/// session) and the page they look at. Everything goes through the UI by its data-testid hooks.
/// </summary>
public sealed class Person : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    /// <summary>A desktop window: the two-pane layout (list and chat side by side).</summary>
    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 800 };

    /// <summary>A phone: the one-pane layout.</summary>
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    private readonly List<string> dialogs = [];
    private readonly List<string> pageErrors = [];

    private Person(IBrowserContext context, string displayName, string username)
    {
        Context = context;
        DisplayName = displayName;
        Username = username;
    }

    public IBrowserContext Context { get; }

    /// <summary>The page this person currently looks at (a new one after <see cref="OpenPageAsync"/>).</summary>
    public IPage Page { get; private set; } = null!;

    public string DisplayName { get; }

    public string Username { get; }

    /// <summary>Every alert/confirm/prompt any of this person's pages raised (none should).</summary>
    public IReadOnlyList<string> Dialogs => dialogs;

    /// <summary>Uncaught script errors on this person's pages.</summary>
    public IReadOnlyList<string> PageErrors => pageErrors;

    /// <summary>Opens a new browser context and registers a new, uniquely named user through the register page.</summary>
    /// <param name="prepare">Runs on the new context before any page opens (e.g. init scripts).</param>
    public static async Task<Person> RegisterAsync(
        E2EFixture fixture, string displayName, ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light, Func<IBrowserContext, Task>? prepare = null)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.Server.BaseAddress.ToString(),
            ViewportSize = viewport ?? Desktop,
            // A phone-sized window is a touch device, so hover-only UI is judged as a phone shows it.
            HasTouch = viewport == Phone,
            ColorScheme = colorScheme,
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(E2EFixture.WaitMs);
        context.SetDefaultNavigationTimeout(E2EFixture.WaitMs);
        if (prepare is not null)
        {
            await prepare(context);
        }

        var username = displayName.ToLowerInvariant().Replace(' ', '_') + "_" + Guid.NewGuid().ToString("N")[..8];
        var person = new Person(context, displayName, username);
        await person.OpenPageAsync("/register");

        var page = person.Page;
        await Expect(page.GetByTestId("register-form")).ToBeVisibleAsync();
        await page.GetByTestId("register-username").FillAsync(username);
        await page.GetByTestId("register-display-name").FillAsync(displayName);
        await page.GetByTestId("register-password").FillAsync(Password);
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync(displayName);
        return person;
    }

    /// <summary>Opens a new page (tab) of this person at <paramref name="path"/>; it becomes <see cref="Page"/>.</summary>
    public async Task<IPage> OpenPageAsync(string path = "/")
    {
        var page = await Context.NewPageAsync();
        page.Dialog += async (_, dialog) =>
        {
            lock (dialogs)
            {
                dialogs.Add($"{dialog.Type}: {dialog.Message}");
            }

            await dialog.DismissAsync();
        };
        page.PageError += (_, error) =>
        {
            lock (pageErrors)
            {
                pageErrors.Add(error);
            }
        };
        await page.GotoAsync(path);
        Page = page;
        return page;
    }

    /// <summary>Closes the current page, as a person closing the tab (the session stays in localStorage).</summary>
    public Task ClosePageAsync() => Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = false });

    /// <summary>Starts (or opens) the direct chat with <paramref name="other"/> through the new-chat dialog; returns its id.</summary>
    public async Task<string> StartDirectChatAsync(Person other)
    {
        await Page.GetByTestId("new-chat-button").ClickAsync();
        var dialog = Page.GetByTestId("new-chat-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByTestId("user-search-input").FillAsync(other.Username);
        await dialog.Locator($"[data-testid=user-result][data-username='{other.Username}']").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        return await OpenedChatAsync(other.DisplayName);
    }

    /// <summary>Creates a group with <paramref name="members"/> through the new-chat dialog; returns its id.</summary>
    public async Task<string> CreateGroupAsync(string name, params Person[] members)
    {
        await Page.GetByTestId("new-chat-button").ClickAsync();
        var dialog = Page.GetByTestId("new-chat-dialog");
        await dialog.GetByTestId("new-chat-group-tab").ClickAsync();
        await dialog.GetByTestId("group-name-input").FillAsync(name);
        foreach (var member in members)
        {
            await PickUserAsync(dialog, member);
        }

        await dialog.GetByTestId("group-create-button").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        return await OpenedChatAsync(name);
    }

    /// <summary>Searches <paramref name="person"/> in a user picker inside <paramref name="scope"/> and selects them.</summary>
    public static async Task PickUserAsync(ILocator scope, Person person)
    {
        await scope.GetByTestId("user-search-input").FillAsync(person.Username);
        var result = scope.Locator($"[data-testid=user-result][data-username='{person.Username}']");
        await result.ClickAsync();
        await Expect(result).ToHaveAttributeAsync("aria-pressed", "true");
    }

    private async Task<string> OpenedChatAsync(string title)
    {
        var view = Page.GetByTestId("chat-view");
        await Expect(view.GetByTestId("chat-title")).ToHaveTextAsync(title);
        return (await view.GetAttributeAsync("data-chat-id"))!;
    }

    /// <summary>The chat's entry in this person's chat list.</summary>
    public ILocator ChatItem(string chatId) => Page.Locator($"[data-testid=chat-item][data-chat-id='{chatId}']");

    /// <summary>Opens a chat from the chat list, as a click.</summary>
    public async Task OpenChatAsync(string chatId)
    {
        await ChatItem(chatId).ClickAsync();
        await Expect(Page.GetByTestId("chat-view")).ToHaveAttributeAsync("data-chat-id", chatId);
    }

    /// <summary>Types a message into the composer and presses Enter.</summary>
    public async Task SendAsync(string text)
    {
        var input = Page.GetByTestId("composer-input");
        await input.FillAsync(text);
        await input.PressAsync("Enter");
        await Expect(input).ToHaveValueAsync(string.Empty);
    }

    /// <summary>All message bubbles in the open chat whose text is exactly <paramref name="text"/>.</summary>
    public ILocator Bubble(string text) =>
        Page.GetByTestId("message-bubble").Filter(new LocatorFilterOptions
        {
            Has = Page.GetByTestId("message-text").GetByText(text, new LocatorGetByTextOptions { Exact = true }),
        });

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
