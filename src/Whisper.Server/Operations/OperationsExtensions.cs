using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.OpenApi;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;

namespace Whisper.Server.Operations;

public static class OperationsExtensions
{
    public static IHostApplicationBuilder AddWhisperOperations(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<JsonOptions>(options => ConfigureJson(options.SerializerOptions));
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<RouteOptions>(options => options.SetParameterPolicy<ClientRouteConstraint>(ClientRouteConstraint.Name));
        services.AddProblemDetails();
        // After the default writer, which stays first for clients that accept JSON.
        services.AddSingleton<IProblemDetailsWriter, FallbackProblemWriter>();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<UnavailableDependencyHandler>();
        services.AddHealthChecks();
        services.AddSingleton<WhisperMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddAspNetCoreInstrumentation()
            .AddMeter(WhisperMetrics.MeterName)
            // The runtime's own: GC heap sizes and pauses, thread pool queue, exceptions.
            .AddMeter("System.Runtime")
            .AddPrometheusExporter());
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Whisper API";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The accessToken from POST /api/login or /api/register.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] }];
            return Task.CompletedTask;
        }));
        return builder;
    }

    /// <summary>camelCase, enums as camelCase strings (never numbers), so the JSON matches the API contract.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/api-reference", options => options.WithTitle("Whisper API")).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    /// <summary>
    /// The web client: static files from wwwroot, with client routes falling back to index.html.
    /// API and hub paths never fall back, so an unknown one stays a JSON 404 (from the status code
    /// pages) and a known one keeps the framework's own 405 and 415 answers.
    /// </summary>
    public static WebApplication MapWebClient(this WebApplication app)
    {
        app.MapFallbackToFile($"{{*path:nonfile:{ClientRouteConstraint.Name}}}", "index.html").AllowAnonymous();
        return app;
    }
}

/// <summary>Matches paths that belong to the web client, not to the API or the hub.</summary>
internal sealed class ClientRouteConstraint : IRouteConstraint
{
    public const string Name = "clientroute";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        values[routeKey] is not string path
        || !(path.StartsWith("api/", StringComparison.OrdinalIgnoreCase) || path.Equals("api", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("hubs/", StringComparison.OrdinalIgnoreCase));
}
