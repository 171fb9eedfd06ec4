using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Whisper.Server.Auth;
using Whisper.Server.Common;

namespace Whisper.Server.Push;

public static class PushApi
{
    public static IEndpointRouteBuilder MapPushApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/push").RequireAuthorization().WithTags("Push")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapGet("/public-key", (VapidKeys keys) => TypedResults.Ok(new PublicKeyDto(keys.PublicKey)));
        api.MapPost("/subscriptions", SubscribeAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/subscriptions", UnsubscribeAsync);
        return app;
    }

    private static async Task<Results<Created, ProblemHttpResult>> SubscribeAsync(
        SubscribeRequest request, PushSubscriptions subscriptions, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await subscriptions.SubscribeAsync(caller.UserId(), caller.SessionId(), request, cancellationToken))
            .Match<Results<Created, ProblemHttpResult>>(_ => TypedResults.Created(), failure => failure.ToProblem());

    private static async Task<NoContent> UnsubscribeAsync(
        [Microsoft.AspNetCore.Mvc.FromBody] UnsubscribeRequest request, PushSubscriptions subscriptions, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        await subscriptions.UnsubscribeAsync(caller.UserId(), request, cancellationToken);
        return TypedResults.NoContent();
    }
}
