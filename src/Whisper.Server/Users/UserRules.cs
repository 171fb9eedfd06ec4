using System.Net.Mail;
using System.Text.RegularExpressions;
using Whisper.Server.Common;

namespace Whisper.Server.Users;

/// <summary>The shape rules of user fields, shared by registration and profile updates.</summary>
public static partial class UserRules
{
    public const int MaxDisplayName = 64;
    public const int MaxAbout = 500;
    public const int MinPassword = 8;
    public const int MaxPassword = 256;

    /// <summary>Usernames are unique case-insensitively, so they are kept in lower case.</summary>
    public static string NormalizeUserName(string userName) => userName.Trim().ToLowerInvariant();

    public static string? NormalizeEmail(string? email) => string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();

    public static void CheckUserName(string? userName, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(userName))
        {
            errors.Add("username", "Username is required.");
        }
        else if (!UserNamePattern().IsMatch(NormalizeUserName(userName)))
        {
            errors.Add("username", "Username must be 3-32 characters of a-z, 0-9, '_' and '.'.");
        }
    }

    public static void CheckPassword(string? password, ValidationErrors errors)
    {
        if (password is null || password.Length < MinPassword)
        {
            errors.Add("password", $"Password must be at least {MinPassword} characters.");
        }
        else if (password.Length > MaxPassword)
        {
            errors.Add("password", $"Password must be at most {MaxPassword} characters.");
        }
    }

    public static void CheckEmail(string? email, ValidationErrors errors)
    {
        if (NormalizeEmail(email) is not { } normalized)
        {
            return;
        }

        if (normalized.Length > 254 || TextRules.HasNul(normalized) || !MailAddress.TryCreate(normalized, out var parsed) || parsed.Address != normalized)
        {
            errors.Add("email", "Email is not a valid address.");
        }
    }

    public static void CheckDisplayName(string? displayName, ValidationErrors errors)
    {
        if (displayName is null)
        {
            return;
        }

        var trimmed = displayName.Trim();
        if (trimmed.Length == 0 || trimmed.Length > MaxDisplayName || trimmed.Any(char.IsControl))
        {
            errors.Add("displayName", $"Display name must be 1-{MaxDisplayName} characters without control characters.");
        }
    }

    [GeneratedRegex("^[a-z0-9_.]{3,32}$")]
    private static partial Regex UserNamePattern();
}
