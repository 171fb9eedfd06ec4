using System.Net.Http.Headers;
using System.Text;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>One part of a hand-written multipart body; null fields are left out of the part's headers.</summary>
public sealed record FormPart(string? Name, string? FileName, bool FileNameStar, string? ContentType, int Length);

public sealed record MultipartBody(byte[] Bytes, string ContentType, string Summary);

/// <summary>Multipart bodies written byte by byte, so they can be wrong in every way a client can be wrong.</summary>
public static class HostileMultipart
{
    private const string Boundary = "whisper-fuzz-7MA4YWxkTrZu0gW";

    private static readonly Gen<FormPart> Part = Gen.Select(
        Gen.Frequency((6, Gen.Const<string?>("file")), (1, Gen.OneOf<string?>("File", "files", "", "avatar", "file\"; name=\"x")), (1, Gen.Const<string?>((string?)null))),
        Gen.Frequency(
            (4, Gen.Const<string?>("photo.png")),
            (1, Gen.Const<string?>((string?)null)),
            (2, Gen.OneOf<string?>("", " ", "../../etc/passwd", "ü💥\u202etxt.exe", "\"quoted\".txt", "a\u0000b.txt", "con", ".htaccess",
                new string('n', 5000) + ".png", new string('n', 9000) + ".png")),
            (1, HostileGen.ShortText.Select(s => (string?)s))),
        Gen.Bool,
        Gen.Frequency((4, Gen.Const<string?>("image/png")), (1, Gen.Const<string?>((string?)null)), (1, Gen.OneOf<string?>("", "text/html", "garbage", "image/svg+xml", "application/octet-stream; x=\""))),
        Gen.Frequency((2, Gen.Const(0)), (4, Gen.Int[1, 300]), (1, Gen.Int[60_000, 70_000])),
        (name, fileName, star, contentType, length) => new FormPart(name, fileName, star, contentType, length));

    public static readonly Gen<MultipartBody> Body = Gen.Select(
        Gen.Frequency((6, Part.Array[1, 3]), (1, Gen.Const(Array.Empty<FormPart>())), (1, Part.Array[10, 40])),
        Gen.Frequency((8, Gen.Const("closed")), (1, Gen.Const("unterminated")), (1, Gen.Const("not multipart"))),
        Gen.Frequency(
            (8, Gen.Const($"multipart/form-data; boundary={Boundary}")),
            (1, Gen.OneOf("multipart/form-data", "multipart/form-data; boundary=other", "multipart/form-data; boundary=" + new string('b', 300),
                "application/json", "multipart/mixed; boundary=" + Boundary, $"multipart/form-data; boundary=\"{Boundary}\"; charset=utf-16"))),
        (parts, framing, contentType) => Write(parts, framing, contentType));

    private static MultipartBody Write(FormPart[] parts, string framing, string contentType)
    {
        using var body = new MemoryStream();
        void Text(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        if (framing == "not multipart")
        {
            Text("just some text, no boundary at all");
        }
        else
        {
            foreach (var part in parts)
            {
                Text($"--{Boundary}\r\nContent-Disposition: form-data");
                if (part.Name is not null)
                {
                    Text($"; name=\"{part.Name}\"");
                }

                if (part.FileName is not null)
                {
                    Text(part.FileNameStar ? $"; filename*=UTF-8''{Uri.EscapeDataString(part.FileName)}" : $"; filename=\"{part.FileName}\"");
                }

                Text("\r\n");
                if (part.ContentType is not null)
                {
                    Text($"Content-Type: {part.ContentType}\r\n");
                }

                Text("\r\n");
                var bytes = new byte[part.Length];
                FileTests.Png.AsSpan(0, Math.Min(bytes.Length, FileTests.Png.Length)).CopyTo(bytes);
                body.Write(bytes);
                Text("\r\n");
            }

            if (framing == "closed")
            {
                Text($"--{Boundary}--\r\n");
            }
        }

        var summary = $"{framing}, {contentType}, parts: [{string.Join("; ", parts.Select(p => $"name={Show(p.Name)} filename{(p.FileNameStar ? "*" : "")}={Show(p.FileName)} type={Show(p.ContentType)} bytes={p.Length}"))}]";
        return new MultipartBody(body.ToArray(), contentType, summary);
    }

    private static string Show(string? value) => value is null ? "(none)" : value.Length > 40 ? $"\"{value[..40]}…\" ({value.Length} chars)" : $"\"{value}\"";
}

/// <summary>One generated request against one operation of the OpenAPI document.</summary>
public sealed record FuzzRequest(
    ApiOperation Operation, string Path, string Query, string? JsonBody, MultipartBody? Multipart, string? ContentType,
    (string Name, string Value)[] Headers, AuthKind Auth, string GarbageAuthorization)
{
    public HttpRequestMessage ToMessage(string validToken)
    {
        var message = new HttpRequestMessage(new HttpMethod(Operation.Method), Path + Query);
        if (JsonBody is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(JsonBody));
            message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType ?? "application/json");
        }
        else if (Multipart is not null)
        {
            message.Content = new ByteArrayContent(Multipart.Bytes);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType ?? Multipart.ContentType);
        }

        foreach (var (name, value) in Headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        switch (Auth)
        {
            case AuthKind.Valid:
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", validToken);
                break;
            case AuthKind.Garbage:
                message.Headers.TryAddWithoutValidation("Authorization", GarbageAuthorization);
                break;
        }

        return message;
    }

    /// <summary>What a failure report shows: enough to write the input down as a regression test.</summary>
    public string Describe()
    {
        var text = new StringBuilder($"{Operation.Method} {Cut(Path + Query, 300)}; auth: {Auth}");
        if (Auth == AuthKind.Garbage)
        {
            text.Append($" ({Cut(GarbageAuthorization, 60)})");
        }

        if (ContentType is not null)
        {
            text.Append($"; Content-Type: {ContentType}");
        }

        foreach (var (name, value) in Headers)
        {
            text.Append($"; {name}: {Cut(value, 60)}");
        }

        if (JsonBody is not null)
        {
            text.Append($"; body ({JsonBody.Length} chars): {Cut(JsonBody, 400)}");
        }

        if (Multipart is not null)
        {
            text.Append($"; multipart ({Multipart.Bytes.Length} bytes): {Multipart.Summary}");
        }

        return text.ToString();
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : $"{text[..length]}… ({text.Length} chars)";
}

/// <summary>Everything the API can change, as sorted lines: equal before and after means nothing was written.</summary>
public static class StoreFingerprint
{
    public static async Task<IReadOnlyList<string>> TakeAsync(WhisperServer server)
    {
        var lines = await server.QueryStoreAsync(async db =>
        {
            var all = new List<string>();
            all.AddRange((await db.Users.AsNoTracking()
                .Select(u => new { u.Id, u.UserName, u.Email, u.DisplayName, u.About, u.AvatarFileId, u.LastSeenVisibility, u.PasswordHash }).ToListAsync()).Select(u => $"user {u}"));
            all.AddRange((await db.Chats.AsNoTracking().Select(c => new { c.Id, c.Type, c.Name, c.AvatarFileId, c.LastSeq }).ToListAsync()).Select(c => $"chat {c}"));
            all.AddRange((await db.ChatMembers.AsNoTracking()
                .Select(m => new { m.ChatId, m.UserId, m.Role, m.DeliveredSeq, m.ReadSeq }).ToListAsync()).Select(m => $"member {m}"));
            all.AddRange((await db.Messages.AsNoTracking()
                .Select(m => new { m.Id, m.ChatId, m.Seq, m.Type, m.Content, m.FileId, m.EditedAt, m.DeletedAt }).ToListAsync()).Select(m => $"message {m}"));
            all.AddRange((await db.Files.AsNoTracking().Select(f => new { f.Id, f.ChatId, f.DeletedAt }).ToListAsync()).Select(f => $"file {f}"));
            all.AddRange((await db.PushSubscriptions.AsNoTracking().Select(s => new { s.Endpoint, s.UserId, s.P256dh }).ToListAsync()).Select(s => $"push {s}"));
            all.Add($"receipt advances {await db.ReceiptAdvances.CountAsync()}");
            return all;
        });
        lines.AddRange((await server.StoredObjectsAsync()).Select(key => $"object {key}"));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Null when equal, else the lines that changed.</summary>
    public static string? Difference(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        if (before.SequenceEqual(after))
        {
            return null;
        }

        var gone = before.Except(after).Take(5).Select(l => $"- {l}");
        var added = after.Except(before).Take(5).Select(l => $"+ {l}");
        return string.Join("\n", gone.Concat(added));
    }
}
