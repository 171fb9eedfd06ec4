using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Auth;

/// <summary>
/// Limits login attempts per account. The address limit runs in the rate-limiting middleware; the
/// account is only known once the body is read, so this one is consulted by the login itself.
/// </summary>
public sealed class LoginThrottle(IOptions<WhisperOptions> options)
    : KeyedThrottle(options.Value.RateLimits.Enabled ? options.Value.RateLimits.LoginPerAccount : null);
