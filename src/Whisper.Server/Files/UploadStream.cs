using System.Security.Cryptography;

namespace Whisper.Server.Files;

/// <summary>Thrown by <see cref="UploadStream"/> as soon as an upload passes the size limit.</summary>
public sealed class FileTooLargeException(long maxBytes) : Exception($"The file is larger than the limit of {maxBytes} bytes.");

/// <summary>
/// Passes an upload through to the store while counting it against the limit, hashing it for the
/// ETag and keeping its first bytes for sniffing, so the bytes are read once and never held whole.
/// </summary>
public sealed class UploadStream(Stream inner, long maxBytes) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] head = new byte[ContentTypes.SniffLength];
    private int headLength;

    public long BytesRead { get; private set; }

    public ReadOnlySpan<byte> Head => head.AsSpan(0, headLength);

    public string Sha256Hex() => Convert.ToHexStringLower(hash.GetCurrentHash());

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException exception) when (exception is not BadHttpRequestException)
        {
            // The client's bytes ended early or broke the multipart framing: that is bad input, not a
            // failure of the store, which the caller must be able to tell apart.
            throw new InvalidDataException("The upload was cut short or is malformed.", exception);
        }

        Observe(buffer.Span[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Observe(ReadOnlySpan<byte> chunk)
    {
        BytesRead += chunk.Length;
        if (BytesRead > maxBytes)
        {
            throw new FileTooLargeException(maxBytes);
        }

        hash.AppendData(chunk);
        var toKeep = Math.Min(chunk.Length, head.Length - headLength);
        chunk[..toKeep].CopyTo(head.AsSpan(headLength));
        headLength += toKeep;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
