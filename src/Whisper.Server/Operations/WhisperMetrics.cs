using System.Diagnostics.Metrics;

namespace Whisper.Server.Operations;

/// <summary>Whisper's own instruments, exported at /metrics beside ASP.NET Core's request metrics.</summary>
public sealed class WhisperMetrics
{
    public const string MeterName = "Whisper";

    private readonly Counter<long> messagesSent;

    public WhisperMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        messagesSent = meter.CreateCounter<long>("whisper.messages.sent", unit: "{message}", description: "Messages stored");
    }

    public void MessageSent() => messagesSent.Add(1);
}
