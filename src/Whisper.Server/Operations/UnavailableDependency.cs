using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Whisper.Server.Operations;

/// <summary>
/// The database or Redis being out of reach (restarting, failing over, a broken connection) is the
/// server's passing state, not a bug and not the client's fault: it is answered as 503 with Retry-After,
/// so clients retry (with their clientMessageId, safely) instead of reporting a server error.
/// </summary>
public static class UnavailableDependency
{
    public const string Detail = "The server's database or cache cannot be reached right now. Try again shortly.";

    public const int RetryAfterSeconds = 2;

    public static bool Caused(Exception exception) => exception switch
    {
        DbException database when database.IsTransient => true,
        RedisConnectionException or RedisTimeoutException => true,
        _ => exception.InnerException is { } inner && Caused(inner),
    };
}

/// <summary>REST: a 503 problem with Retry-After.</summary>
internal sealed partial class UnavailableDependencyHandler(IProblemDetailsService problems, ILogger<UnavailableDependencyHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!UnavailableDependency.Caused(exception))
        {
            return false;
        }

        LogUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = UnavailableDependency.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Service unavailable", Detail = UnavailableDependency.Detail },
        });
    }

    [LoggerMessage(LogLevel.Warning, "{Method} {Path} answered 503: a dependency is unavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string method, string path);
}

/// <summary>Hub: the same words as the REST problem, as a refusal the caller can retry; the connection stays up.</summary>
internal sealed partial class UnavailableDependencyFilter(ILogger<UnavailableDependencyFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception exception) when (UnavailableDependency.Caused(exception))
        {
            LogUnavailable(logger, exception, invocationContext.HubMethodName);
            throw new HubException($"Service unavailable: {UnavailableDependency.Detail}");
        }
    }

    [LoggerMessage(LogLevel.Warning, "Hub method {Method} refused: a dependency is unavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string method);
}
