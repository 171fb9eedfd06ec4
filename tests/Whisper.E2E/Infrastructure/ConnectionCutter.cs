namespace Whisper.E2E.Infrastructure;

/// <summary>
/// Takes a person's browser off the network and back. Chromium's offline emulation
/// (<see cref="IBrowserContext.SetOfflineAsync"/>) fails new HTTP requests, but it does NOT close a
/// WebSocket that is already open: the hub's socket just stalls, and the server still counts the
/// person as online. So the hub's socket is routed through Playwright
/// (<see cref="IBrowserContext.RouteWebSocketAsync(string, Action{IWebSocketRoute})"/>, passed on to
/// the real server unchanged) and closed here, as a dropped network closes it; the offline
/// emulation then keeps every reconnect attempt and REST call failing until <see cref="RestoreAsync"/>.
/// </summary>
public sealed class ConnectionCutter
{
    private readonly IBrowserContext context;
    private readonly List<(IWebSocketRoute Page, IWebSocketRoute Server)> open = [];

    private ConnectionCutter(IBrowserContext context) => this.context = context;

    private int failedNegotiations;

    private volatile bool dropped;

    /// <summary>How many times the hub tried to reconnect (a negotiate request or a socket) and failed, since the last drop.</summary>
    public int FailedReconnects => Volatile.Read(ref failedNegotiations);

    /// <summary>How many hub sockets were opened through the cutter (each (re)connect opens one).</summary>
    public int SocketsOpened { get; private set; }

    /// <summary>Routes the person's hub sockets; install before the page connects (then load or reload it).</summary>
    public static async Task<ConnectionCutter> InstallAsync(IBrowserContext context)
    {
        var cutter = new ConnectionCutter(context);
        context.RequestFailed += (_, request) =>
        {
            if (request.Url.Contains("/hubs/chat/negotiate", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref cutter.failedNegotiations);
            }
        };
        await context.RouteWebSocketAsync("**/hubs/chat**", socket =>
        {
            // The client connects with WebSockets directly (no negotiate request): while the network is
            // down, each attempt is a socket that fails.
            if (cutter.dropped)
            {
                Interlocked.Increment(ref cutter.failedNegotiations);
                _ = socket.CloseAsync(new WebSocketRouteCloseOptions { Code = 1006, Reason = "network down (test)" });
                return;
            }

            var server = socket.ConnectToServer();
            lock (cutter.open)
            {
                cutter.open.Add((socket, server));
                cutter.SocketsOpened++;
            }
        });
        return cutter;
    }

    /// <summary>The network goes away: the open hub socket is closed, then new requests fail.</summary>
    public async Task DropAsync()
    {
        // From here every new hub socket fails (see InstallAsync), so the client's immediate reconnect cannot slip through.
        dropped = true;
        Interlocked.Exchange(ref failedNegotiations, 0);
        (IWebSocketRoute Page, IWebSocketRoute Server)[] sockets;
        lock (open)
        {
            sockets = [.. open];
            open.Clear();
        }

        Assert.NotEmpty(sockets);
        // The server's side first, and before the offline emulation: the route's server side is a real socket of
        // the page, so the emulation stands between its close and the server. With the emulation first, the server
        // once did not notice the close within the tests' 15 s wait (its client timeout is 30 s).
        var lost = new WebSocketRouteCloseOptions { Code = 1001, Reason = "network lost (test)" };
        foreach (var (page, server) in sockets)
        {
            await server.CloseAsync(lost);
            await page.CloseAsync(lost);
        }

        await context.SetOfflineAsync(true);
    }

    /// <summary>The network is back.</summary>
    public Task RestoreAsync()
    {
        dropped = false;
        return context.SetOfflineAsync(false);
    }
}
