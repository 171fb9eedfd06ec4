using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Microsoft.Net.Http.Headers;
using Whisper.Server.Auth;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;
using Whisper.Server.Storage;

namespace Whisper.Server.Files;

public static class FilesApi
{
    /// <summary>Room for the multipart boundaries and part headers around the file itself.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder app)
    {
        var chatFiles = app.MapGroup("/api/chats/{chatId:guid}/files").RequireAuthorization().WithTags("Files")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        chatFiles.MapPost("/", UploadAsync).RateLimited(RateLimitCategory.Upload)
            .AddOpenApiOperationTransformer(DescribeMultipartFile)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status429TooManyRequests);
        chatFiles.MapGet("/", ListAsync);

        var files = app.MapGroup("/api/files").RequireAuthorization().WithTags("Files")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        files.MapGet("/{id:guid}", DownloadAsync).Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent).Produces(StatusCodes.Status302Found);
        files.MapDelete("/{id:guid}", DeleteAsync).ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    /// <summary>
    /// Documents the multipart body by hand: declaring it with Accepts would make routing reject other
    /// content types before the handler can answer them with a clear 415 problem.
    /// </summary>
    private static Task DescribeMultipartFile(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "file" },
                        Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    /// <summary>Reads the multipart body section by section and streams the <c>file</c> part straight to the store.</summary>
    private static async Task<Results<Created<FileDto>, ProblemHttpResult>> UploadAsync(
        Guid chatId, HttpContext http, FileService files, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var callerId = caller.UserId();
        if ((await files.CanUploadAsync(callerId, chatId, cancellationToken)).Failure is { } denied)
        {
            return denied.ToProblem();
        }

        if (http.Request.ContentLength > files.MaxBytes + MultipartOverhead)
        {
            return Failure.TooLarge($"Files are limited to {files.MaxBytes} bytes.").ToProblem();
        }

        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !"multipart/form-data".Equals(mediaType.MediaType.Value, StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            return new Failure(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "Upload the file as multipart/form-data with a field named \"file\".").ToProblem();
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = files.MaxBytes + MultipartOverhead;
        }

        var reader = new MultipartReader(boundary, http.Request.Body) { HeadersLengthLimit = 8 * 1024, HeadersCountLimit = 16 };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.IsFileDisposition()
                    && disposition.Name.Equals("file", StringComparison.OrdinalIgnoreCase))
                {
                    var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    var result = await files.UploadAsync(callerId, chatId, name, section.ContentType, section.Body, cancellationToken);
                    return result.Match<Results<Created<FileDto>, ProblemHttpResult>>(
                        file => TypedResults.Created(file.Url, file), failure => failure.ToProblem());
                }
            }
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException and not BadHttpRequestException and not FileStoreException)
        {
            return Failure.BadRequest($"The multipart body is malformed: {exception.Message}").ToProblem();
        }

        return Failure.Invalid("file", "The multipart body has no file field named \"file\".").ToProblem();
    }

    private static async Task<Results<Ok<Page<FileDto>>, ProblemHttpResult>> ListAsync(
        Guid chatId, int? limit, DateTime? before, FileService files, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await files.ListAsync(caller.UserId(), chatId, limit, before, cancellationToken)).ToOk();

    /// <summary>
    /// Streams the bytes with Range and ETag support. Only media a browser cannot run is shown inline;
    /// everything else is an attachment, and nothing is sniffed or allowed to script our origin.
    /// </summary>
    private static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> DownloadAsync(
        Guid id, HttpContext http, FileService files, IFileStore store, IOptions<WhisperOptions> options, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var found = await files.FindDownloadableAsync(caller.UserId(), id, cancellationToken);
        if (found.Failure is { } notFound)
        {
            return notFound.ToProblem();
        }

        var file = found.Value!;
        var inline = ContentTypes.IsInlineSafe(file.ContentType);
        var disposition = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        disposition.SetHttpFileName(file.Name);
        if (store is S3FileStore s3 && options.Value.Storage.RedirectDownloads)
        {
            // The bytes come from the object store (or its CDN) directly, for a few minutes only.
            return TypedResults.Redirect(s3.PresignedDownloadUrl(file.StorageKey, file.ContentType, disposition.ToString()));
        }

        var opened = await files.OpenContentAsync(file, cancellationToken);
        if (opened.Failure is { } missing)
        {
            return missing.ToProblem();
        }

        var content = opened.Value!;
        var response = http.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        response.OnStarting(() =>
        {
            // Only answers that carry or confirm the bytes describe them: a 416 for a range beyond the file must
            // neither be cached for a year as this URL's answer nor offered as a download.
            if (response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
            {
                response.Headers.CacheControl = "private, max-age=31536000, immutable";
                response.Headers.ContentDisposition = disposition.ToString();
            }

            return Task.CompletedTask;
        });
        return TypedResults.Stream(
            content,
            file.ContentType,
            lastModified: new DateTimeOffset(file.CreatedAt),
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""),
            enableRangeProcessing: true);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, FileService files, ClaimsPrincipal caller, CancellationToken cancellationToken) =>
        (await files.DeleteAsync(caller.UserId(), id, cancellationToken)).ToNoContent();
}
