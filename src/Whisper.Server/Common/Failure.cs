using Microsoft.AspNetCore.Http.HttpResults;

namespace Whisper.Server.Common;

/// <summary>
/// A typed reason why a service call did not succeed. Each maps to exactly one problem-details answer,
/// so REST endpoints and hub methods report the same failure the same way.
/// </summary>
public sealed record Failure(int Status, string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>For 429 answers: how long the client should wait (sent as <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static Failure TooManyRequests(string detail, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, "Too many requests", detail) { RetryAfter = retryAfter };

    /// <summary>Also used for things that exist but the caller may not see (no enumeration).</summary>
    public static Failure NotFound(string what) => new(StatusCodes.Status404NotFound, "Not found", $"{what} was not found.");

    public static Failure Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static Failure Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);

    public static Failure Unauthorized(string detail) => new(StatusCodes.Status401Unauthorized, "Unauthorized", detail);

    public static Failure TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    /// <summary>The file store is full: 507, so clients and operators see it is not their input.</summary>
    public static Failure OutOfStorage() =>
        new(StatusCodes.Status507InsufficientStorage, "Insufficient storage", "The server has no room left for this file. Try again later.");

    /// <summary>A dependency (the file store) is failing: 503, worth retrying later.</summary>
    public static Failure Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);

    public static Failure BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static Failure Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static Failure Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, "Validation failed", string.Join(" ", errors.SelectMany(e => e.Value)), errors);

    public ProblemHttpResult ToProblem(HttpContext? httpContext = null)
    {
        if (RetryAfter is { } retryAfter && httpContext is not null)
        {
            httpContext.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var problem = Errors is null
            ? new Microsoft.AspNetCore.Mvc.ProblemDetails()
            : new HttpValidationProblemDetails(Errors.ToDictionary(e => e.Key, e => e.Value));
        problem.Status = Status;
        problem.Title = Title;
        problem.Detail = Detail;
        return TypedResults.Problem(problem);
    }
}

/// <summary>Either a value or a <see cref="Failure"/>.</summary>
public readonly struct Result<T>
{
    private Result(T? value, Failure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public Failure? Failure { get; }

    public bool Succeeded => Failure is null;

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Failure failure) => new(default, failure);

    public TResult Match<TResult>(Func<T, TResult> onSuccess, Func<Failure, TResult> onFailure) =>
        Failure is null ? onSuccess(Value!) : onFailure(Failure);
}

/// <summary>A result that carries no value.</summary>
public readonly record struct Done
{
    public static readonly Done Value = default;
}

public static class ResultHttpExtensions
{
    public static Results<Ok<T>, ProblemHttpResult> ToOk<T>(this Result<T> result) =>
        result.Match<Results<Ok<T>, ProblemHttpResult>>(value => TypedResults.Ok(value), failure => failure.ToProblem());

    public static Results<NoContent, ProblemHttpResult> ToNoContent<T>(this Result<T> result) =>
        result.Match<Results<NoContent, ProblemHttpResult>>(_ => TypedResults.NoContent(), failure => failure.ToProblem());
}
