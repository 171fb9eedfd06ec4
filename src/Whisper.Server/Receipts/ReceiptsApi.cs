using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Auth;
using Whisper.Server.Common;

namespace Whisper.Server.Receipts;

public static class ReceiptsApi
{
    public static IEndpointRouteBuilder MapReceiptsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization().WithTags("Receipts")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);

        // The singular path is kept for clients of the first version of the API.
        foreach (var prefix in new[] { "/messages", "/message" })
        {
            api.MapGet($"{prefix}/{{id:guid}}/status", GetStatusAsync);
            api.MapPost($"{prefix}/{{id:guid}}/status", MarkAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        }

        return app;
    }

    private static async Task<Results<Ok<MessageStatusDto>, ProblemHttpResult>> GetStatusAsync(
        Guid id, ReceiptService receipts, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await receipts.GetStatusAsync(caller.UserId(), id, cancellationToken)).ToOk();

    private static async Task<Results<Ok<MessageStatusDto>, ProblemHttpResult>> MarkAsync(
        Guid id, MarkStatusRequest request, ReceiptService receipts, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var result = await receipts.MarkAsync(caller.UserId(), id, request, cancellationToken);
        return result.Match<Results<Ok<MessageStatusDto>, ProblemHttpResult>>(marked => TypedResults.Ok(marked.Status), failure => failure.ToProblem());
    }
}
