using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Realtime;

/// <summary>Hub sends count against the same per-user limit as REST sends (a separate budget of that size).</summary>
public sealed class HubSendThrottle(IOptions<WhisperOptions> options)
    : KeyedThrottle(options.Value.RateLimits.Enabled ? options.Value.RateLimits.SendPerUser : null);
