using Whisper.Server.Users;

namespace Whisper.Server.Auth;

public sealed record RegisterRequest(string? Username, string? Password, string? DisplayName, string? Email);

/// <summary><c>login</c> is the username or the email.</summary>
public sealed record LoginRequest(string? Login, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

/// <summary><c>expiresAt</c> is when the access token expires; refresh before then.</summary>
public sealed record SessionDto(string AccessToken, string RefreshToken, DateTime ExpiresAt, MeDto User);
