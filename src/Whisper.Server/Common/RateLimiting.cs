using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Whisper.Server.Common;

public enum RateLimitCategory { Login, Register, Send, Upload }

/// <summary>Endpoint metadata naming which limits apply to it.</summary>
public sealed record RateLimitedMetadata(RateLimitCategory Category);

/// <summary>
/// ASP.NET Core's rate limiter, with one global limiter chained from a per-address and a per-user
/// limiter, each choosing its window from the endpoint's <see cref="RateLimitedMetadata"/>. (A named
/// policy holds a single partition key; sends and uploads are limited by user and by address at once.)
/// </summary>
public static class RateLimiting
{
    public static TBuilder RateLimited<TBuilder>(this TBuilder builder, RateLimitCategory category)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new RateLimitedMetadata(category));

    public static IHostApplicationBuilder AddWhisperRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<WhisperOptions>>((options, whisper) =>
        {
            var limits = whisper.Value.RateLimits;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = WriteRejectionAsync;
            if (limits.Enabled)
            {
                options.GlobalLimiter = PartitionedRateLimiter.CreateChained(ByAddress(limits), ByUser(limits));
            }
        });
        return builder;
    }

    private static PartitionedRateLimiter<HttpContext> ByAddress(RateLimitOptions limits) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var limit = CategoryOf(context) switch
            {
                RateLimitCategory.Login => limits.LoginPerAddress,
                RateLimitCategory.Register => limits.RegisterPerAddress,
                RateLimitCategory.Send => limits.SendPerAddress,
                RateLimitCategory.Upload => limits.UploadPerAddress,
                _ => null,
            };
            var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return Partition($"{CategoryOf(context)}:{address}", limit);
        });

    private static PartitionedRateLimiter<HttpContext> ByUser(RateLimitOptions limits) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var limit = CategoryOf(context) switch
            {
                RateLimitCategory.Send => limits.SendPerUser,
                RateLimitCategory.Upload => limits.UploadPerUser,
                _ => null,
            };
            var user = context.User.FindFirstValue(JwtRegisteredClaimNames.Sub);
            return Partition($"{CategoryOf(context)}:{user}", user is null ? null : limit);
        });

    private static RateLimitCategory? CategoryOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RateLimitedMetadata>()?.Category;

    private static RateLimitPartition<string> Partition(string key, RateLimit? limit) => limit is null
        ? RateLimitPartition.GetNoLimiter(key)
        : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
        });

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        var http = context.HttpContext;
        http.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = "Rate limit reached; retry after the time in the Retry-After header.",
            },
        });
    }
}
