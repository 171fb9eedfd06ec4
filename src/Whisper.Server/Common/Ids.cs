namespace Whisper.Server.Common;

public static class Ids
{
    /// <summary>UUIDv7: time-ordered, so indexes stay append-mostly, and safe to generate on any node.</summary>
    public static Guid New() => Guid.CreateVersion7();
}
