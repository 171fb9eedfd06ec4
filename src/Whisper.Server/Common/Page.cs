namespace Whisper.Server.Common;

/// <summary>Every list answers a bounded page: the items and whether more exist beyond them.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore)
{
    /// <summary>Builds a page from a query that fetched one item more than <paramref name="limit"/>.</summary>
    public static Page<T> FromOverfetch(IReadOnlyList<T> fetched, int limit) =>
        fetched.Count > limit ? new Page<T>(fetched.Take(limit).ToList(), true) : new Page<T>(fetched, false);
}

public static class Limits
{
    /// <summary>Clamps a client's <c>limit</c> into 1..max, with a default when absent.</summary>
    public static int Clamp(int? requested, int defaultLimit, int max) =>
        requested is null ? defaultLimit : Math.Clamp(requested.Value, 1, max);
}
