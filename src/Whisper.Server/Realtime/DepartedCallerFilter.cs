using Microsoft.AspNetCore.SignalR;

namespace Whisper.Server.Realtime;

/// <summary>
/// A hub call cut short because its caller went away (closed the connection, crashed, lost the network)
/// is no error: nobody waits for its answer. Without this, SignalR logged each one as a failed invocation.
/// </summary>
internal sealed class DepartedCallerFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (OperationCanceledException) when (invocationContext.Context.ConnectionAborted.IsCancellationRequested)
        {
            return null;
        }
    }
}
