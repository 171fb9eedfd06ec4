using System.Buffers;
using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Storage;

/// <summary>
/// Files in any S3-compatible object store. Uploads stream through in parts of <see cref="PartSize"/>
/// (a single PUT when smaller, multipart otherwise), so at most one part is held in memory; reads are
/// ranged GETs behind a seekable stream, so range requests work as on disk.
/// </summary>
public sealed class S3FileStore : IFileStore, IDisposable
{
    public const int PartSize = 8 * 1024 * 1024;
    private readonly AmazonS3Client s3;
    private readonly StorageOptions options;
    private readonly SemaphoreSlim bucketCheck = new(1, 1);
    private bool bucketReady;

    public S3FileStore(IOptions<WhisperOptions> whisper)
    {
        options = whisper.Value.Storage;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // Plain payloads and checksums only where required: many S3-compatible servers store the
            // SDK's default aws-chunked, trailing-checksum uploads verbatim instead of decoding them.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        // A self-hosted store (MinIO, Ceph, Garage) is named by its URL; Amazon S3 itself by the region alone.
        if (options.ServiceUrl is { Length: > 0 } serviceUrl)
        {
            config.ServiceURL = serviceUrl;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        s3 = options.AccessKey is { Length: > 0 }
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public async Task SaveAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        try
        {
            await SaveOrThrowAsync(key, content, cancellationToken);
        }
        catch (Exception exception) when (IsStoreFailure(exception))
        {
            throw new FileStoreException("The object store cannot be reached or refused the upload.", outOfSpace: false, exception);
        }
    }

    /// <summary>The SDK's own failures: the store answered with an error, or could not be reached at all.</summary>
    private static bool IsStoreFailure(Exception exception) =>
        exception is AmazonServiceException or AmazonClientException or HttpRequestException;

    private async Task SaveOrThrowAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        await EnsureBucketAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(PartSize);
        string? uploadId = null;
        try
        {
            var partETags = new List<PartETag>();
            for (var partNumber = 1; ; partNumber++)
            {
                var length = await content.ReadAtLeastAsync(buffer.AsMemory(0, PartSize), PartSize, throwOnEndOfStream: false, cancellationToken);
                if (partNumber == 1 && length < PartSize)
                {
                    // Small files (nearly all): one PUT.
                    await s3.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = key, InputStream = new MemoryStream(buffer, 0, length, writable: false), UseChunkEncoding = false }, cancellationToken);
                    return;
                }

                if (length == 0)
                {
                    break;
                }

                uploadId ??= (await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = options.Bucket, Key = key }, cancellationToken)).UploadId;
                var part = await s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = options.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = partNumber,
                    InputStream = new MemoryStream(buffer, 0, length, writable: false),
                    UseChunkEncoding = false,
                }, cancellationToken);
                partETags.Add(new PartETag(partNumber, part.ETag));
                if (length < PartSize)
                {
                    break;
                }
            }

            await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = options.Bucket, Key = key, UploadId = uploadId, PartETags = partETags }, cancellationToken);
            uploadId = null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (uploadId is not null)
            {
                // The upload failed part way (too large, client gone): leave nothing behind. When the store
                // itself is failing this may fail too; the store expires abandoned uploads by its own rules.
                try
                {
                    await s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = options.Bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
                }
                catch (Exception exception) when (IsStoreFailure(exception))
                {
                }
            }
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await s3.GetObjectMetadataAsync(options.Bucket, key, cancellationToken);
            return new S3ObjectStream(s3, options.Bucket, key, head.ContentLength);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception exception) when (IsStoreFailure(exception))
        {
            throw new FileStoreException("The object store cannot be reached.", outOfSpace: false, exception);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        s3.DeleteObjectAsync(options.Bucket, key, cancellationToken);

    /// <summary>A short-lived URL that serves the bytes straight from the store, with a safe disposition.</summary>
    public string PresignedDownloadUrl(string key, string contentType, string contentDisposition) =>
        s3.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = options.Bucket,
            Key = key,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + options.PresignedUrlLifetime,
            Protocol = options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
            ResponseHeaderOverrides = { ContentType = contentType, ContentDisposition = contentDisposition },
        });

    /// <summary>Creates the bucket on first use when it does not exist yet.</summary>
    private async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        if (bucketReady)
        {
            return;
        }

        await bucketCheck.WaitAsync(cancellationToken);
        try
        {
            if (!bucketReady && !await Amazon.S3.Util.AmazonS3Util.DoesS3BucketExistV2Async(s3, options.Bucket))
            {
                await s3.PutBucketAsync(options.Bucket, cancellationToken);
            }

            bucketReady = true;
        }
        finally
        {
            bucketCheck.Release();
        }
    }

    public void Dispose()
    {
        s3.Dispose();
        bucketCheck.Dispose();
    }
}

/// <summary>A read-only, seekable view of one object: each read after a seek starts a ranged GET.</summary>
internal sealed class S3ObjectStream(IAmazonS3 s3, string bucket, string key, long length) : Stream
{
    private Stream? body;
    private long position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (position >= length)
        {
            return 0;
        }

        if (body is null)
        {
            var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(position, length - 1) }, cancellationToken);
            body = response.ResponseStream;
        }

        var read = await body.ReadAsync(buffer, cancellationToken);
        position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };
        if (target != position)
        {
            body?.Dispose();
            body = null;
            position = target;
        }

        return position;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body?.Dispose();
        }

        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
