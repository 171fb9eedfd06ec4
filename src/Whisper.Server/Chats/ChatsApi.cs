using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Auth;
using Whisper.Server.Common;

namespace Whisper.Server.Chats;

public static class ChatsApi
{
    public static IEndpointRouteBuilder MapChatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/chats").RequireAuthorization().WithTags("Chats")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/", ListAsync);
        api.MapPost("/", CreateAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id:guid}", GetAsync).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/{id:guid}", UpdateAsync).WithForbiddenAndNotFound();
        api.MapPost("/{id:guid}/users", AddMembersAsync).WithForbiddenAndNotFound();
        api.MapDelete("/{id:guid}/users/{userId:guid}", RemoveMemberAsync).WithForbiddenAndNotFound();
        api.MapPut("/{id:guid}/users/{userId:guid}", SetRoleAsync).WithForbiddenAndNotFound();
        return app;
    }

    private static RouteHandlerBuilder WithForbiddenAndNotFound(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Ok<Page<ChatDto>>> ListAsync(
        int? limit, DateTime? before, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        TypedResults.Ok(await chats.ListAsync(caller.UserId(), limit, before, cancellationToken));

    private static async Task<Results<Created<ChatDto>, Ok<ChatDto>, ProblemHttpResult>> CreateAsync(
        CreateChatRequest request, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var result = await chats.CreateAsync(caller.UserId(), request, cancellationToken);
        return result.Match<Results<Created<ChatDto>, Ok<ChatDto>, ProblemHttpResult>>(
            outcome => outcome.Created ? TypedResults.Created($"/api/chats/{outcome.Chat.Id}", outcome.Chat) : TypedResults.Ok(outcome.Chat),
            failure => failure.ToProblem());
    }

    private static async Task<Results<Ok<ChatDto>, ProblemHttpResult>> GetAsync(
        Guid id, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await chats.GetAsync(caller.UserId(), id, cancellationToken)).ToOk();

    private static async Task<Results<Ok<ChatDto>, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateChatRequest request, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await chats.UpdateAsync(caller.UserId(), id, request, cancellationToken)).ToOk();

    private static async Task<Results<Ok<ChatDto>, ProblemHttpResult>> AddMembersAsync(
        Guid id, AddMembersRequest request, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await chats.AddMembersAsync(caller.UserId(), id, request, cancellationToken)).ToOk();

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(
        Guid id, Guid userId, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await chats.RemoveMemberAsync(caller.UserId(), id, userId, cancellationToken)).ToNoContent();

    private static async Task<Results<Ok<ChatDto>, ProblemHttpResult>> SetRoleAsync(
        Guid id, Guid userId, SetRoleRequest request, ChatService chats, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await chats.SetRoleAsync(caller.UserId(), id, userId, request, cancellationToken)).ToOk();
}
