using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

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

/// <summary>
/// The default writer honours <c>Accept</c> and writes nothing for a client that accepts no JSON, which
/// left such a client with a bare status (or "Status Code: 401" as text). An API error always says
/// what was wrong, so when no other writer will, this one writes the problem as JSON anyway.
/// </summary>
internal sealed class FallbackProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json", context.HttpContext.RequestAborted));
    }
}

public static class RequestCharsets
{
    /// <summary>
    /// A body declared in a charset .NET cannot decode (<c>application/json; charset=bogus</c>, or UTF-7,
    /// which .NET disables) made the framework's JSON reader throw, a 500. It is a media type we do not
    /// support: 415, before anything reads it.
    /// </summary>
    public static IApplicationBuilder UseKnownRequestCharsets(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            && HeaderUtilities.RemoveQuotes(mediaType.Charset).Value is { } charset
            && !IsKnown(charset))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                detail: $"The charset \"{charset}\" is not supported; send UTF-8.").ExecuteAsync(context);
        }

        return next(context);
    });

    private static bool IsKnown(string charset)
    {
        try
        {
            _ = Encoding.GetEncoding(charset);
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}

public static class RangeProblems
{
    /// <summary>
    /// The framework's file results answer a Range beyond the file with an empty 416 that keeps the file's
    /// Content-Type, which status code pages leave alone: a client got a bare status typed as, say, an image.
    /// Clearing the type and the zero length lets <c>UseStatusCodePages</c>, which must come before this, write the
    /// problem as for any other error. The <c>Content-Range: bytes */length</c> the framework set stays.
    /// </summary>
    public static IApplicationBuilder UseProblemsForUnsatisfiableRanges(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        var response = context.Response;
        if (response.StatusCode == StatusCodes.Status416RangeNotSatisfiable && !response.HasStarted && response.ContentLength is null or 0)
        {
            response.ContentType = null;
            response.ContentLength = null;
        }
    });
}
