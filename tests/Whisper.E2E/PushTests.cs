using System.Security.Cryptography;
using System.Text.Json;
using Whisper.E2E.Infrastructure;

namespace Whisper.E2E;

/// <summary>
/// Web Push from the page's side in real Chromium: the service worker is served and registered, the
/// prompt asks only on a click, the subscription reaches the real server, and logout removes it.
/// The browser's push service (on the internet) is out of reach here, so PushManager.subscribe is
/// replaced by a fake that hands out a subscription to a loopback endpoint with real P-256 keys.
/// </summary>
public sealed class PushTests(E2EFixture fixture)
{
    [Fact]
    public async Task Notifications_are_turned_on_from_the_prompt_and_the_subscription_is_removed_at_logout()
    {
        var endpoint = $"http://127.0.0.1:9/push/{Guid.NewGuid():N}";
        var keys = new { p256dh = Base64Url(NewP256PublicKey()), auth = Base64Url(RandomNumberGenerator.GetBytes(16)) };
        var fakeBrowser = FakePushScript(endpoint, keys.p256dh, keys.auth);
        await using var alice = await Person.RegisterAsync(fixture, "Alice", prepare: c => c.AddInitScriptAsync(fakeBrowser));
        var page = alice.Page;

        // The worker from public/sw.js is registered at start-up, for the whole app.
        var worker = await page.EvaluateAsync<string>(
            "() => Promise.race([navigator.serviceWorker.ready.then(r => r.active.scriptURL + ' ' + r.scope), new Promise((_, no) => setTimeout(() => no(new Error('no service worker')), 15000))])");
        Assert.Equal($"{fixture.Server.BaseAddress}sw.js {fixture.Server.BaseAddress}", worker);

        // Nothing was asked on page load; the prompt waits for a click.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__permissionRequests"));
        var prompt = page.GetByTestId("push-prompt");
        await Expect(prompt).ToBeVisibleAsync();
        var posted = await page.RunAndWaitForResponseAsync(
            () => prompt.GetByTestId("push-enable").ClickAsync(),
            r => r.Url.EndsWith("/api/push/subscriptions", StringComparison.Ordinal) && r.Request.Method == "POST");
        Assert.Equal(201, posted.Status);
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__permissionRequests"));
        using (var body = JsonDocument.Parse(posted.Request.PostData!))
        {
            Assert.Equal(endpoint, body.RootElement.GetProperty("endpoint").GetString());
            Assert.Equal(keys.p256dh, body.RootElement.GetProperty("keys").GetProperty("p256dh").GetString());
            Assert.Equal(keys.auth, body.RootElement.GetProperty("keys").GetProperty("auth").GetString());
        }

        // It subscribed with the server's own VAPID key, decoded from base64url.
        var publicKey = await page.EvaluateAsync<string>("() => fetch('/api/push/public-key', { headers: { Authorization: 'Bearer ' + JSON.parse(localStorage.getItem('whisper.session')).accessToken } }).then(r => r.json()).then(j => j.publicKey)");
        var usedKey = await page.EvaluateAsync<int[]>("() => window.__subscribedWithKey");
        Assert.Equal(FromBase64Url(publicKey).Select(b => (int)b), usedKey);
        Assert.Equal(65, usedKey.Length);
        await Expect(prompt).ToBeHiddenAsync();
        await page.GetByTestId("profile-button").ClickAsync();
        await Expect(page.GetByTestId("profile-push")).ToHaveAttributeAsync("data-state", "on");
        await page.GetByTestId("dialog-close").ClickAsync();

        // Logout tells the server first (while the token still works), then unsubscribes the browser.
        var deleted = await page.RunAndWaitForResponseAsync(
            () => page.GetByTestId("logout-button").ClickAsync(),
            r => r.Url.EndsWith("/api/push/subscriptions", StringComparison.Ordinal) && r.Request.Method == "DELETE");
        Assert.Equal(204, deleted.Status);
        using (var body = JsonDocument.Parse(deleted.Request.PostData!))
        {
            Assert.Equal(endpoint, body.RootElement.GetProperty("endpoint").GetString());
        }

        await Expect(page.GetByTestId("login-form")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => window.__unsubscribed === true"));
    }

    /// <summary>Replaces the browser's push service and permission prompt (both out of reach offline).</summary>
    private static string FakePushScript(string endpoint, string p256dh, string auth) => $$"""
        (() => {
          if (!('PushManager' in window) || !('Notification' in window)) return;
          let current = null;
          let permission = 'default';
          window.__permissionRequests = 0;
          Object.defineProperty(Notification, 'permission', { get: () => permission, configurable: true });
          Notification.requestPermission = async () => { window.__permissionRequests++; permission = 'granted'; return permission; };
          PushManager.prototype.getSubscription = async function () { return current; };
          PushManager.prototype.subscribe = async function (options) {
            window.__subscribedWithKey = Array.from(new Uint8Array(options.applicationServerKey));
            current = {
              endpoint: {{JsonSerializer.Serialize(endpoint)}},
              options: { applicationServerKey: options.applicationServerKey.buffer, userVisibleOnly: true },
              toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: {{JsonSerializer.Serialize(p256dh)}}, auth: {{JsonSerializer.Serialize(auth)}} } }; },
              async unsubscribe() { current = null; window.__unsubscribed = true; return true; },
            };
            return current;
          };
        })();
        """;

    private static byte[] NewP256PublicKey()
    {
        using var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var p = ecdh.ExportParameters(includePrivateParameters: false).Q;
        return [0x04, .. p.X!, .. p.Y!];
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b + new string('=', (4 - (b.Length % 4)) % 4));
    }
}
