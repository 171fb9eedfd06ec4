namespace Whisper.Server.Common;

/// <summary>
/// PostgreSQL's text type cannot hold U+0000 (the statement fails), and no reader of a chat expects one:
/// every text a client sends is refused with a 400 when it holds one, on every provider alike.
/// </summary>
public static class TextRules
{
    public static bool HasNul(string? text) => text is not null && text.Contains('\0');

    public static ValidationErrors CheckNoNul(this ValidationErrors errors, string? text, string field) =>
        errors.Require(!HasNul(text), field, NulMessage(field));

    /// <summary>The refusal of a text holding U+0000, for a check that answers at once.</summary>
    public static Failure? RefuseNul(string? text, string field) => HasNul(text) ? Failure.Invalid(field, NulMessage(field)) : null;

    private static string NulMessage(string field) => $"The {field} must not contain the NUL character (U+0000).";
}
