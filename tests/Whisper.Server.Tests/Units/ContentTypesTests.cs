using Whisper.Server.Data;
using Whisper.Server.Files;

namespace Whisper.Server.Tests.Units;

public sealed class ContentTypesTests
{
    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0 }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "image/gif")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, "image/webp")]
    [InlineData(new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m' }, "video/mp4")]
    [InlineData(new byte[] { 0x1A, 0x45, 0xDF, 0xA3 }, "video/webm")]
    [InlineData(new byte[] { (byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-' }, "application/pdf")]
    public void Signatures_are_recognised(byte[] head, string expected) => Assert.Equal(expected, ContentTypes.Sniff(head));

    [Theory]
    [InlineData("text/plain", "text/plain")]
    [InlineData("TEXT/CSV; charset=utf-8", "text/csv")]
    [InlineData("not a type", "application/octet-stream")]
    [InlineData("image/*", "application/octet-stream")]
    [InlineData(null, "application/octet-stream")]
    public void Without_a_signature_a_well_formed_claim_is_taken(string? claimed, string expected) =>
        Assert.Equal(expected, ContentTypes.Decide("just text"u8, claimed));

    [Theory]
    [InlineData("image/png", true)]
    [InlineData("video/mp4", true)]
    [InlineData("image/svg+xml", false)]
    [InlineData("text/html", false)]
    [InlineData("application/pdf", false)]
    public void Only_media_that_cannot_script_is_inline(string contentType, bool inline) =>
        Assert.Equal(inline, ContentTypes.IsInlineSafe(contentType));

    [Theory]
    [InlineData("image/jpeg", MessageType.Image)]
    [InlineData("image/svg+xml", MessageType.File)]
    [InlineData("video/webm", MessageType.Video)]
    [InlineData("audio/ogg", MessageType.Audio)]
    [InlineData("application/zip", MessageType.File)]
    public void A_file_decides_the_message_type(string contentType, MessageType type) =>
        Assert.Equal(type, ContentTypes.MessageTypeOf(contentType));

    [Fact]
    public void Long_names_are_cut_keeping_the_extension()
    {
        var name = FileNames.Clean(new string('a', 300) + ".jpeg");

        Assert.Equal(255, name.Length);
        Assert.EndsWith(".jpeg", name);
    }
}
