using Microsoft.Net.Http.Headers;

namespace Whisper.Server.Operations;

/// <summary>
/// Headers that keep the web client's origin safe: scripts only from our own files (no inline script,
/// so injected markup cannot run), no framing, no sniffing, no referrers leaking chat URLs.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>Inline styles are allowed (Vue binds style attributes); inline scripts are not.</summary>
    public const string ClientPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // File downloads set their own, stricter policy; the API reference page needs its inline script.
            if (!headers.ContainsKey(HeaderNames.ContentSecurityPolicy) && !context.Request.Path.StartsWithSegments("/api-reference"))
            {
                headers.ContentSecurityPolicy = ClientPolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
