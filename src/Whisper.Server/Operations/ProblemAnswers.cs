using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Whisper.Server.Operations;

/// <summary>
/// Turns requests the framework could not bind (malformed JSON, wrong types, oversized bodies) into a
/// 4xx problem that says what was wrong, instead of a bare status code.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        httpContext.Response.StatusCode = badRequest.StatusCode;
        var detail = badRequest.InnerException is JsonException json ? $"{badRequest.Message} {json.Message}" : badRequest.Message;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = badRequest.StatusCode,
                // 400, 408 (a body trickled too slowly), 413, 431: the status's own name.
                Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(badRequest.StatusCode),
                Detail = detail,
            },
        });
    }
}
