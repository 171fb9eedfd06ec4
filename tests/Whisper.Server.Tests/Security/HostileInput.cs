using System.Globalization;
using System.Text;
using CsCheck;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// A JSON value written by hand, so a body can carry what serializers refuse to write: duplicate keys,
/// numbers no type holds, lone surrogates, garbage.
/// </summary>
public abstract record JsonText
{
    public abstract void WriteTo(StringBuilder text);

    public sealed override string ToString()
    {
        var text = new StringBuilder();
        WriteTo(text);
        return text.ToString();
    }
}

/// <summary>A string, escaped to ASCII (\uXXXX), so any UTF-16 unit survives the trip, lone surrogates included.</summary>
public sealed record JString(string Value) : JsonText
{
    public override void WriteTo(StringBuilder text)
    {
        text.Append('"');
        foreach (var c in Value)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c < 0x20 || c > 0x7e)
            {
                text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        text.Append('"');
    }
}

/// <summary>Written as is: numbers, true, false, null, or text that is not JSON at all.</summary>
public sealed record JRaw(string Text) : JsonText
{
    public override void WriteTo(StringBuilder text) => text.Append(Text);
}

public sealed record JArray(IReadOnlyList<JsonText> Items) : JsonText
{
    public override void WriteTo(StringBuilder text)
    {
        text.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            text.Append(i == 0 ? "" : ",");
            Items[i].WriteTo(text);
        }

        text.Append(']');
    }
}

public sealed record JObject(IReadOnlyList<(string Name, JsonText Value)> Members) : JsonText
{
    public override void WriteTo(StringBuilder text)
    {
        text.Append('{');
        for (var i = 0; i < Members.Count; i++)
        {
            text.Append(i == 0 ? "" : ",");
            new JString(Members[i].Name).WriteTo(text);
            text.Append(':');
            Members[i].Value.WriteTo(text);
        }

        text.Append('}');
    }
}

/// <summary>Generators of hostile values that do not depend on the server's data.</summary>
public static class HostileGen
{
    private static readonly string[] NastyStrings =
    [
        "", " ", "   ", "\0", "\u0001\u0007\u001f", "\r\n", "\t", "null", "undefined", "NaN", "true", "0", "-1",
        "💥", "\ud800", "\udfff", "e\u0301\u0301\u0301", "\u202eevil", "\ufeff", "\uffff", "Ω≈ç√∫", "ＡＢＣ",
        "../../etc/passwd", "..\\..\\boot.ini", "%2F%2E%2E", "' OR 1=1 --", "\"; DROP TABLE users; --", "<script>alert(1)</script>",
        "${jndi:ldap://x}", "{{7*7}}", "\\u0000", "a\u0000b", "admin", "owner", "group", "direct", "https://push.example.com/x",
    ];

    private static readonly Gen<string> Plain = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789 _.-"].Array[0, 24].Select(c => new string(c));

    /// <summary>Strings for anything: plain, nasty, arbitrary UTF-16 units, around the limits, or huge.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (4, Plain),
        (3, Gen.OneOf(NastyStrings)),
        (1, Gen.Char.Array[0, 40].Select(c => new string(c))),
        (1, Gen.OneOf(3, 32, 33, 200, 201, 256, 257, 2048, 2049, 4000, 4001).Select(n => new string('x', n))),
        (1, Gen.Int[10_000, 200_000].Select(n => new string('a', n))));

    /// <summary>Like <see cref="Text"/> but small enough for a URL or a hub frame (64 KB).</summary>
    public static readonly Gen<string> ShortText = Gen.Frequency(
        (4, Plain),
        (3, Gen.OneOf(NastyStrings)),
        (1, Gen.Char.Array[0, 20].Select(c => new string(c))),
        (1, Gen.OneOf(200, 201, 4000, 4001).Select(n => new string('x', n))));

    /// <summary>Number literals, most of which fit no .NET type the server might bind to.</summary>
    public static readonly Gen<string> Number = Gen.Frequency(
        (3, Gen.OneOf(
            "0", "1", "-1", "2", "50", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "1e400", "-1e400", "1.5", "-0", "0.0000001", "1E2", "4e-400", new string('9', 400))),
        (2, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e308")));

    public static readonly Gen<string> DateText = Gen.Frequency(
        (3, Gen.OneOf(
            "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.123+14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59.9999999Z",
            "2026-13-45", "yesterday", "", "1970-01-01", "-0001-01-01", "2026-02-30T00:00:00Z", "10000-01-01")),
        (1, ShortText));

    private static readonly Gen<JsonText> Scalar = Gen.Frequency(
        (3, ShortText.Select(s => (JsonText)new JString(s))),
        (2, Number.Select(n => (JsonText)new JRaw(n))),
        (1, Gen.OneOf("true", "false", "null").Select(r => (JsonText)new JRaw(r))));

    /// <summary>Any JSON value at all: what a field of another type gets.</summary>
    public static Gen<JsonText> AnyJson(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, AnyJson(depth - 1).Array[0, 4].Select(items => (JsonText)new JArray(items))),
            (1, Gen.Select(Plain, AnyJson(depth - 1)).Array[0, 4].Select(members => (JsonText)new JObject(members))));

    /// <summary>Nesting far past any reader's depth limit.</summary>
    public static readonly Gen<string> DeepNesting = Gen.Select(Gen.Int[65, 5000], Gen.Bool,
        (depth, arrays) => arrays
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>Bodies that are not JSON, or not quite.</summary>
    public static readonly Gen<string> Garbage = Gen.OneOf(
        "", "{", "}", "{\"a\":1}}", "\ufeff{}", "nul", "[1,2", "{\"content\":\"x\"", "{'content':'x'}", "{content:1}", "NaN",
        "0x10", "\"unterminated", "{\"a\":\"\\uZZZZ\"}", "{\"a\":\"\\ud800\"}", "{\"a\":01}", "{\"a\":+1}", "{\"a\":.5}", "{,}",
        "{\"a\":1,}", "\u0000", "<xml/>", "a=b&c=d");

    public static readonly Gen<string?> ContentType = Gen.Frequency(
        (8, Gen.Const<string?>((string?)null)),
        (1, Gen.OneOf<string?>(
            "text/plain", "application/json; charset=utf-16", "application/json; charset=bogus", "application/json; charset=utf-7", "application/xml",
            "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=", "application/problem+json",
            "application/json-patch+json", "*/*", "", "application/json;;;", "APPLICATION/JSON", "application/json; charset=\"")));

    /// <summary>Extra headers: conditional and range requests, negotiation, proxies, odd encodings.</summary>
    public static readonly Gen<(string Name, string Value)[]> Headers = Gen.Frequency(
        (3, Gen.Const(Array.Empty<(string, string)>())),
        (2, Gen.OneOf(
            ("Accept", "application/xml"), ("Accept", "text/html"), ("Accept", "*/*;q=0"), ("Accept", "garbage///"),
            ("Range", "bytes=0-0"), ("Range", "bytes=-1"), ("Range", "bytes=999999999-"), ("Range", "bytes=5-2"), ("Range", "bytes=-0"),
            ("Range", "bytes=0-1,1-2,2-3,3-4,4-5,5-6"), ("Range", "items=0-1"), ("Range", "bytes=" + string.Join(",", Enumerable.Range(0, 300).Select(i => $"{i}-{i}"))),
            ("If-None-Match", "*"), ("If-None-Match", "\"x\""), ("If-None-Match", "W/\"x\", garbage"), ("If-Match", "\"nope\""),
            ("If-Modified-Since", "yesterday"), ("If-Modified-Since", "Tue, 01 Jan 2999 00:00:00 GMT"), ("If-Range", "\"x\""),
            ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"), ("Content-Encoding", "gzip"), ("Accept-Encoding", "br;q=2"),
            ("Accept-Language", "xx-YY-zzzz"), ("Origin", "http://evil.example"), ("X-Forwarded-For", "not-an-ip"),
            ("X-Forwarded-Proto", "gopher"), ("Cookie", "a=b; c"), ("User-Agent", new string('U', 4000)), ("Expect", "100-continue"))
            .Array[1, 4]));
}

/// <summary>How a request authenticates.</summary>
public enum AuthKind { Valid, None, Garbage }

/// <summary>Generators aimed at one server's data: ids that exist, belong to others, or are almost ids.</summary>
public sealed class HostileInputs(IReadOnlyList<Guid> knownIds, string validToken)
{
    private Gen<Guid> KnownId => Gen.OneOf(knownIds.ToArray());

    /// <summary>Id strings inside JSON: real ones, unknown ones, and things that are almost ids.</summary>
    public Gen<string> IdText => Gen.Frequency(
        (6, KnownId.Select(id => id.ToString())),
        (2, Gen.Guid.Select(id => id.ToString())),
        (1, KnownId.Select(id => id.ToString("N"))),
        (1, KnownId.Select(id => id.ToString("B").ToUpperInvariant())),
        (1, Gen.OneOf("", "0", "00000000-0000-0000-0000-000000000000", "not-a-guid", "01a2082d-44e4-708c-8834-ef7632e3f53", "💥")),
        (1, HostileGen.ShortText));

    /// <summary>Path segments, already URL-encoded where they need to be: encoded slashes, NULs, braces, huge ones.</summary>
    public Gen<string> PathId => Gen.Frequency(
        (6, KnownId.Select(id => id.ToString())),
        (2, Gen.Guid.Select(id => id.ToString())),
        (1, KnownId.Select(id => id.ToString("N"))),
        (1, KnownId.Select(id => $"%7B{id}%7D")),
        (2, Gen.OneOf(
            "abc", "0", "-1", "%2F", "..%2F..%2Fetc%2Fpasswd", "%00", "%20", "null", "00000000-0000-0000-0000-000000000000",
            "%F0%9F%92%A5", "%ZZ", new string('a', 3000), ".", "..")),
        (1, Gen.Select(KnownId, Gen.OneOf("%2F", "%00", "%2F..%2F", "%3F", "%23")).Select((id, tail) => $"{id}{tail}")),
        (1, HostileGen.ShortText.Select(Uri.EscapeDataString)));

    /// <summary>A value of the shape the OpenAPI document gives, mostly with the right type and a hostile content.</summary>
    public Gen<JsonText> ValueFor(ValueShape shape, int depth = 0) => Gen.Frequency(
        (8, Typed(shape, depth)),
        (1, Gen.Const<JsonText>(new JRaw("null"))),
        (1, HostileGen.AnyJson(2)));

    private Gen<JsonText> Typed(ValueShape shape, int depth) => shape.Kind switch
    {
        ValueKind.String => HostileGen.Text.Select(s => (JsonText)new JString(s)),
        ValueKind.Uuid => IdText.Select(s => (JsonText)new JString(s)),
        ValueKind.DateTime => HostileGen.DateText.Select(s => (JsonText)new JString(s)),
        ValueKind.Integer or ValueKind.Number => HostileGen.Number.Select(n => (JsonText)new JRaw(n)),
        ValueKind.Boolean => Gen.OneOf("true", "false").Select(b => (JsonText)new JRaw(b)),
        ValueKind.Enum => Gen.Frequency(
            (5, Gen.OneOf(shape.EnumValues.DefaultIfEmpty("x").ToArray())),
            (1, Gen.OneOf(shape.EnumValues.DefaultIfEmpty("x").ToArray()).Select(v => v.ToUpperInvariant())),
            (1, Gen.OneOf("", "0", "1", "owner", "system", "sent", "nobody ")))
            .Select(v => (JsonText)new JString(v)),
        ValueKind.Array when depth < 4 => Gen.Frequency(
            (6, ValueFor(shape.Items ?? new ValueShape(ValueKind.String, [], null, []), depth + 1).Array[0, 5]),
            (1, Gen.Select(IdText, Gen.Int[500, 3000]).Select((id, count) => Enumerable.Repeat<JsonText>(new JString(id), count).ToArray())))
            .Select(items => (JsonText)new JArray(items)),
        ValueKind.Object when depth < 4 => ObjectOf(shape, depth),
        _ => HostileGen.AnyJson(1),
    };

    /// <summary>The declared fields (each present or not), sometimes extra fields, sometimes a field twice.</summary>
    public Gen<JsonText> ObjectOf(ValueShape shape, int depth = 0)
    {
        var members = Gen.Const(new List<(string, JsonText)>());
        foreach (var (name, fieldShape) in shape.Properties)
        {
            var field = Gen.Frequency((5, ValueFor(fieldShape, depth + 1).Select(v => ((string, JsonText)?)(name, v))), (1, Gen.Const(default((string, JsonText)?))));
            members = Gen.Select(members, field, (list, member) => member is { } m ? list.Append(m).ToList() : list);
        }

        var extras = Gen.Frequency(
            (6, Gen.Const(Array.Empty<(string, JsonText)>())),
            (1, Gen.Select(HostileGen.ShortText, HostileGen.AnyJson(1)).Array[1, 3]));
        var duplicateFirst = Gen.Frequency((6, Gen.Const(false)), (1, Gen.Const(true)));
        return Gen.Select(members, extras, duplicateFirst, HostileGen.AnyJson(1), (list, extra, duplicate, other) =>
        {
            var all = list.Concat(extra).ToList();
            if (duplicate && all.Count > 0)
            {
                all.Add((all[0].Item1, other));
            }

            return (JsonText)new JObject(all);
        });
    }

    /// <summary>A whole JSON body: mostly the declared shape, else anything, deep nesting or not JSON at all.</summary>
    public Gen<string> JsonBody(ValueShape? shape) => Gen.Frequency(
        (8, (shape is null ? HostileGen.AnyJson(2) : ObjectOf(shape)).Select(j => j.ToString())),
        (1, HostileGen.AnyJson(3).Select(j => j.ToString())),
        (1, HostileGen.DeepNesting),
        (1, HostileGen.Garbage),
        (1, (shape is null ? HostileGen.AnyJson(2) : ObjectOf(shape)).Select(j => j.ToString()).SelectMany(text => Gen.Int[0, text.Length].Select(cut => text[..cut]))));

    /// <summary>Query values per declared parameter (present or not), plus unknown and repeated ones.</summary>
    public Gen<string> Query(ApiOperation operation)
    {
        var parts = Gen.Const(new List<string>());
        foreach (var (name, shape) in operation.Query)
        {
            var value = shape.Kind switch
            {
                ValueKind.Integer => Gen.Frequency((4, HostileGen.Number), (1, Gen.OneOf("abc", "", " 1", "1e9", "0x10", "1,2"))),
                ValueKind.DateTime => HostileGen.DateText,
                _ => HostileGen.ShortText,
            };
            var parameter = Gen.Frequency((3, value.Select(v => (string?)$"{name}={Uri.EscapeDataString(v)}")), (1, Gen.Const<string?>((string?)null)));
            parts = Gen.Select(parts, parameter, (list, p) => p is null ? list : list.Append(p).ToList());
        }

        var extras = Gen.Frequency(
            (6, Gen.Const(Array.Empty<string>())),
            (1, Gen.OneOf("limit=1&limit=2", "x=1", "%ZZ=1", "=", "&&", "q", "before=1&before=x", "after=%00", "search=%2F%2F",
                "access_token=garbage", "access_token=", "access_token=" + validToken)
                .Array[1, 2]));
        return Gen.Select(parts, extras, (list, extra) => list.Count + extra.Length == 0 ? "" : "?" + string.Join("&", list.Concat(extra)));
    }

    public Gen<string> PathFor(ApiOperation operation)
    {
        var path = Gen.Const(operation.Path);
        foreach (var parameter in operation.PathParameters)
        {
            path = Gen.Select(path, PathId, (p, id) => p.Replace("{" + parameter + "}", id, StringComparison.Ordinal));
        }

        return path;
    }

    public static readonly Gen<AuthKind> Auth = Gen.Frequency((8, Gen.Const(AuthKind.Valid)), (1, Gen.Const(AuthKind.None)), (1, Gen.Const(AuthKind.Garbage)));

    public Gen<string> GarbageAuthorization => Gen.OneOf(
        "Bearer", "Bearer ", "Bearer x.y.z", "Basic dXNlcjpwYXNz", "Bearer " + new string('A', 5000), "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        validToken, $"Bearer {validToken}x", $"Bearer {validToken[..^5]}", "Bearer " + validToken.Replace('.', '_'), "Negotiate abc", "Bearer\tx");
}
