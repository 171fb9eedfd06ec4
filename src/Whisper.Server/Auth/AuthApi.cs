using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Auth");

        api.MapPost("/register", RegisterAsync).AllowAnonymous().RateLimited(RateLimitCategory.Register)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/login", LoginAsync).AllowAnonymous().RateLimited(RateLimitCategory.Login)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/refresh", RefreshAsync).AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        // GET is kept for clients of the first version of the API.
        api.MapMethods("/logout", ["POST", "GET"], LogoutAsync).RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        return app;
    }

    private static async Task<Results<Created<SessionDto>, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, AuthService auth, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await auth.RegisterAsync(request, http.Request.Headers.UserAgent, cancellationToken);
        return result.Match<Results<Created<SessionDto>, ProblemHttpResult>>(
            session => TypedResults.Created($"/api/users/{session.User.Id}", session),
            failure => failure.ToProblem(http));
    }

    private static async Task<Results<Ok<SessionDto>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, AuthService auth, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await auth.LoginAsync(request, http.Request.Headers.UserAgent, cancellationToken);
        return result.Match<Results<Ok<SessionDto>, ProblemHttpResult>>(session => TypedResults.Ok(session), failure => failure.ToProblem(http));
    }

    private static async Task<Results<Ok<SessionDto>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, AuthService auth, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await auth.RefreshAsync(request, cancellationToken);
        return result.Match<Results<Ok<SessionDto>, ProblemHttpResult>>(session => TypedResults.Ok(session), failure => failure.ToProblem(http));
    }

    private static async Task<NoContent> LogoutAsync(AuthService auth, HttpContext http, CancellationToken cancellationToken)
    {
        await auth.LogoutAsync(http.User.SessionId(), cancellationToken);
        return TypedResults.NoContent();
    }
}
