using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>Collects what the server logs at Error and above, so a test can fail on an unhandled exception.</summary>
public sealed class ServerErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> entries = new();

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}: {Message}{(Exception is null ? "" : $" ({Exception.GetType().Name}: {Exception.Message})")}";
    }

    public int Count => entries.Count;

    /// <summary>
    /// Entries after the first <paramref name="skip"/> that are not deliberate refusals: SignalR logs every
    /// exception a hub method throws at Error, including the HubExceptions that are our clear answers.
    /// </summary>
    public IReadOnlyList<Entry> UnexpectedSince(int skip) =>
        entries.Skip(skip).Where(e => e.Exception is not HubException).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
            }
        }
    }
}

/// <summary>A server of its own for hostile input, with its Error log captured (the shared server's log is everyone's).</summary>
public sealed class HostileServer : WhisperServer
{
    // Initialised before the base constructor starts the host, which calls ConfigureWebHost.
    public ServerErrorLog Errors { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Errors));
    }
}
