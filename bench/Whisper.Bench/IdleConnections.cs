using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;

namespace Whisper.Bench;

/// <summary>
/// W1's sockets, held by a worker process (<c>bench connections-worker</c>) for one server node. A process may
/// open only so many files (this machine's containers: 20,000, a hard limit), so past that the generator needs
/// several processes: <see cref="ConnectionsWorkload"/> starts one worker per node and steers them over their
/// standard input and output, one line each way per step.
/// </summary>
/// <remarks>
/// A lean client: a raw WebSocket that does the SignalR handshake and then only pings, so the generator's own
/// cost per connection stays small. The server's pings are never read; the kernel's receive buffer holds them.
/// </remarks>
public sealed class IdleConnections(Uri server, IReadOnlyList<string> tokens, int inFlight) : IAsyncDisposable
{
    /// <summary>The most one worker holds: its process's open-file limit, less what the runtime itself opens.</summary>
    public const int MostPerWorker = 19_000;

    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}" + (char)HubHandshake.RecordSeparator);
    private readonly List<ClientWebSocket> sockets = [];
    private readonly CancellationTokenSource stopping = new();
    private Task pinging = Task.CompletedTask;

    /// <summary>
    /// The worker's loop: reads "open N" lines and answers each with "opened N failed M"; ends, closing every
    /// socket, when its input closes (the coordinator has finished or died).
    /// </summary>
    public static async Task<int> ServeAsync(Uri server, FileInfo tokensFile, int inFlight, CancellationToken cancellationToken)
    {
        await using var connections = new IdleConnections(server, await File.ReadAllLinesAsync(tokensFile.FullName, cancellationToken), inFlight);
        connections.StartPinging();
        while (await Console.In.ReadLineAsync(cancellationToken) is { } command)
        {
            var count = int.Parse(command.Split(' ')[1]);
            var failed = await connections.OpenAsync(count, cancellationToken);
            await Console.Out.WriteLineAsync($"opened {count - failed} failed {failed}");
            await Console.Out.FlushAsync(cancellationToken);
        }

        return 0;
    }

    /// <summary>
    /// SignalR drops a client it has not heard from for 30 s: every connection pings every 15 s, as SignalR's
    /// clients (Whisper's web client among them) do by default.
    /// </summary>
    public void StartPinging() => pinging = Task.Run(() => PingAsync(stopping.Token), CancellationToken.None);

    /// <summary>Opens <paramref name="count"/> more connections, the worker's share of 64 at a time; returns how many failed.</summary>
    public async Task<int> OpenAsync(int count, CancellationToken cancellationToken)
    {
        var failed = 0;
        using var opening = new SemaphoreSlim(inFlight);
        var opened = await Task.WhenAll(Enumerable.Range(sockets.Count, count).Select(async i =>
        {
            await opening.WaitAsync(cancellationToken);
            try
            {
                return await ConnectAsync(tokens[i % tokens.Count], cancellationToken);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or InvalidOperationException)
            {
                Interlocked.Increment(ref failed);
                return null;
            }
            finally
            {
                opening.Release();
            }
        }));
        lock (sockets)
        {
            sockets.AddRange(opened.OfType<ClientWebSocket>());
        }

        return failed;
    }

    private async Task<ClientWebSocket> ConnectAsync(string token, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
        socket.Options.SetBuffer(256, 256);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await HubHandshake.ConnectAsync(socket, server, token, "json", timeout.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ClientWebSocket[] all;
            lock (sockets)
            {
                all = [.. sockets];
            }

            foreach (var socket in all)
            {
                try
                {
                    await socket.SendAsync(Ping, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
                {
                    // Shows in the server's memory at the next step; a closed socket stays closed.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await pinging;
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}

/// <summary>The coordinator's handle on one worker process: <see cref="IdleConnections.ServeAsync"/> at the other end.</summary>
public sealed class ConnectionsWorker : IAsyncDisposable
{
    private readonly Process process;

    private ConnectionsWorker(Process process) => this.process = process;

    public int Open { get; private set; }

    /// <summary>Starts this same program as a worker for one server, opening <paramref name="inFlight"/> connections at a time.</summary>
    public static ConnectionsWorker Start(Uri server, string tokensFile, int inFlight)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Run as "dotnet Whisper.Bench.dll", the program's own path comes first; as an apphost, it does not.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ConnectionsWorker).Assembly.Location);
        }

        foreach (var argument in new[] { "connections-worker", "--server", server.ToString(), "--tokens", tokensFile, "--in-flight", inFlight.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        return new ConnectionsWorker(Process.Start(start)!);
    }

    /// <summary>Asks the worker for <paramref name="count"/> more connections; returns how many failed.</summary>
    public async Task<int> OpenAsync(int count, CancellationToken cancellationToken)
    {
        if (Open + count > IdleConnections.MostPerWorker)
        {
            throw new InvalidOperationException($"A worker holds at most {IdleConnections.MostPerWorker:N0} connections: give the run more servers.");
        }

        await process.StandardInput.WriteLineAsync($"open {count}".AsMemory(), cancellationToken);
        await process.StandardInput.FlushAsync(cancellationToken);
        var answer = await process.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The worker exited with code {(process.WaitForExit(5_000) ? process.ExitCode : -1)}.");
        // "opened N failed M"
        var words = answer.Split(' ');
        Open += int.Parse(words[1]);
        return int.Parse(words[3]);
    }

    /// <summary>Closing its input ends the worker, which closes its sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
