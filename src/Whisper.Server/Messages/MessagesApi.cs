using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Auth;
using Whisper.Server.Common;

namespace Whisper.Server.Messages;

public static class MessagesApi
{
    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var chatMessages = app.MapGroup("/api/chats/{chatId:guid}/messages").RequireAuthorization().WithTags("Messages")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        chatMessages.MapGet("/", ListAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        chatMessages.MapPost("/", SendAsync).RateLimited(RateLimitCategory.Send)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        chatMessages.MapGet("/search", SearchAsync).ProducesProblem(StatusCodes.Status400BadRequest);

        var messages = app.MapGroup("/api/messages").RequireAuthorization().WithTags("Messages")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        messages.MapPut("/{id:guid}", EditAsync).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        messages.MapDelete("/{id:guid}", DeleteAsync);
        return app;
    }

    private static async Task<Results<Ok<Page<MessageDto>>, ProblemHttpResult>> ListAsync(
        Guid chatId, long? before, long? after, int? limit, MessageService messages, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await messages.ListAsync(caller.UserId(), chatId, before, after, limit, cancellationToken)).ToOk();

    private static async Task<Results<Created<MessageDto>, Ok<MessageDto>, ProblemHttpResult>> SendAsync(
        Guid chatId, SendMessageRequest request, MessageService messages, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var result = await messages.SendAsync(caller.UserId(), chatId, request, cancellationToken);
        return result.Match<Results<Created<MessageDto>, Ok<MessageDto>, ProblemHttpResult>>(
            outcome => outcome.Created
                ? TypedResults.Created($"/api/chats/{chatId}/messages?after={outcome.Message.Seq - 1}&limit=1", outcome.Message)
                : TypedResults.Ok(outcome.Message),
            failure => failure.ToProblem());
    }

    private static async Task<Results<Ok<Page<MessageDto>>, ProblemHttpResult>> SearchAsync(
        Guid chatId, string? q, long? before, int? limit, MessageService messages, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await messages.SearchAsync(caller.UserId(), chatId, q, before, limit, cancellationToken)).ToOk();

    private static async Task<Results<Ok<MessageDto>, ProblemHttpResult>> EditAsync(
        Guid id, EditMessageRequest request, MessageService messages, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await messages.EditAsync(caller.UserId(), id, request, cancellationToken)).ToOk();

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, MessageService messages, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await messages.DeleteAsync(caller.UserId(), id, cancellationToken)).ToNoContent();
}
