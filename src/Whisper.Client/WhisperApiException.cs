using System.Net;

namespace Whisper.Client;

/// <summary>A problem-details answer from the server (or a hub refusal), with its status and words.</summary>
public sealed class WhisperApiException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null)
    : Exception(detail ?? title ?? status.ToString())
{
    public HttpStatusCode Status { get; } = status;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();

    /// <summary>For 429 answers: how long the server asked to wait.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
