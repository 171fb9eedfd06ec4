using System.Diagnostics.Metrics;

namespace Whisper.Server.Operations;

/// <summary>Whisper's own instruments, exported at /metrics beside ASP.NET Core's request metrics.</summary>
public sealed class WhisperMetrics
{
    public const string MeterName = "Whisper";

    private readonly Counter<long> messagesSent;
    private readonly Histogram<int> writeBatchSize;
    private readonly Histogram<double> writeBatchDuration;

    public WhisperMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        messagesSent = meter.CreateCounter<long>("whisper.messages.sent", unit: "{message}", description: "Messages stored");
        writeBatchSize = meter.CreateHistogram(
            "whisper.writes.batch_size", unit: "{write}",
            description: "Writes stored together in one transaction by a group-commit writer: near 1 while it keeps up, growing toward its limit as it saturates",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        writeBatchDuration = meter.CreateHistogram(
            "whisper.writes.duration", unit: "s",
            description: "How long a group-commit writer took to store one batch, its commit included",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
    }

    public void MessageSent() => messagesSent.Add(1);

    /// <param name="writes">The writer's kind of write: "messages", "receipt advances".</param>
    public void BatchWritten(string writes, int size, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("writes", writes);
        writeBatchSize.Record(size, tag);
        writeBatchDuration.Record(duration.TotalSeconds, tag);
    }
}
