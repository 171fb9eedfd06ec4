using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Auth;
using Whisper.Server.Common;

namespace Whisper.Server.Users;

public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users").RequireAuthorization().WithTags("Users")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/me", GetMeAsync);
        api.MapGet("/", SearchAsync);
        api.MapGet("/{id:guid}", GetAsync).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/{id:guid}", UpdateAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/last-seen", GetLastSeenAsync).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Ok<MeDto>, ProblemHttpResult>> GetMeAsync(
        UserService users, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await users.GetMeAsync(caller.UserId(), cancellationToken)).ToOk();

    private static async Task<Results<Ok<Page<UserDto>>, ProblemHttpResult>> SearchAsync(
        string? search, int? limit, UserService users, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await users.SearchAsync(caller.UserId(), search, limit, cancellationToken)).ToOk();

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> GetAsync(
        Guid id, UserService users, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await users.GetAsync(caller.UserId(), id, cancellationToken)).ToOk();

    private static async Task<Results<Ok<MeDto>, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateUserRequest request, UserService users, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await users.UpdateAsync(caller.UserId(), id, request, cancellationToken)).ToOk();

    private static async Task<Results<Ok<LastSeenDto>, ProblemHttpResult>> GetLastSeenAsync(
        Guid id, UserService users, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await users.GetLastSeenAsync(caller.UserId(), id, cancellationToken)).ToOk();
}
