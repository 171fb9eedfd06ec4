using Microsoft.Net.Http.Headers;
using Whisper.Server.Data;

namespace Whisper.Server.Files;

/// <summary>What a file is, from its first bytes where they tell, and how it may be served.</summary>
public static class ContentTypes
{
    public const string OctetStream = "application/octet-stream";

    /// <summary>Bytes needed to recognise every signature below.</summary>
    public const int SniffLength = 16;

    /// <summary>Types a browser only ever renders as media: safe to show inline from our origin.</summary>
    private static readonly HashSet<string> InlineSafe = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp",
        "video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/webm", "audio/mp4", "audio/wav",
    };

    /// <summary>The type the bytes prove, else the client's claim when it is a well-formed media type, else octet-stream.</summary>
    public static string Decide(ReadOnlySpan<byte> head, string? claimed) => Sniff(head) ?? Clean(claimed) ?? OctetStream;

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static ReadOnlySpan<byte> JpegSignature => [0xFF, 0xD8, 0xFF];
    private static ReadOnlySpan<byte> EbmlSignature => [0x1A, 0x45, 0xDF, 0xA3];

    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith(PngSignature)) return "image/png";
        if (head.StartsWith(JpegSignature)) return "image/jpeg";
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8)) return "image/gif";
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        if (head.StartsWith("%PDF-"u8)) return "application/pdf";
        if (head.StartsWith(EbmlSignature)) return "video/webm";
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            return head[8..12].SequenceEqual("M4A "u8) ? "audio/mp4" : head[8..12].SequenceEqual("qt  "u8) ? "video/quicktime" : "video/mp4";
        }

        return null;
    }

    public static bool IsInlineSafe(string contentType) => InlineSafe.Contains(contentType);

    public static MessageType MessageTypeOf(string contentType) => contentType.Split('/')[0] switch
    {
        "image" when IsInlineSafe(contentType) => MessageType.Image,
        "video" => MessageType.Video,
        "audio" => MessageType.Audio,
        _ => MessageType.File,
    };

    private static string? Clean(string? claimed) =>
        MediaTypeHeaderValue.TryParse(claimed, out var parsed) && parsed.MediaType.Value is { } mediaType
            && mediaType.Contains('/') && !mediaType.Contains('*') && mediaType.Length <= 127
            ? mediaType.ToLowerInvariant()
            : null;
}
