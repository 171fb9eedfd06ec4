using System.Text;
using CsCheck;

namespace Whisper.Server.Tests.Security;

/// <summary>One SignalR JSON-protocol record (or a thing meant to pass for one), written by hand.</summary>
/// <param name="Split">Sent as two WebSocket messages, cut in the middle (of a character, maybe).</param>
public sealed record HubFrame(string Text, bool Split)
{
    /// <summary>The invocation id the hostile frames carry when they carry one.</summary>
    public const string InvocationId = "f";

    public byte[] Bytes => Encoding.UTF8.GetBytes(Text + RawHub.RecordSeparator);

    public string Describe() => (Text.Length <= 300 ? Text : $"{Text[..300]}… ({Text.Length} chars)") + (Split ? " (in two WebSocket messages)" : "");
}

/// <summary>
/// Records the client library would never send: wrong types, missing fields, garbage. Not unknown message
/// types (0, 10, 99): SignalR's JSON protocol reads "ignore this one" as "not complete yet", and the
/// connection that sent one waits for more forever, answering nothing; only that connection, by the framework.
/// </summary>
public static class HostileFrames
{
    public static Gen<HubFrame> For(HostileInputs inputs, string[] methods)
    {
        static Gen<string?> Field(int right, Gen<string?> good, Gen<string?> bad) =>
            Gen.Frequency((right, good), (1, bad), (1, Gen.Const<string?>((string?)null)));

        var type = Gen.Frequency(
            (6, Gen.Const("1")),
            (2, Gen.OneOf("2", "3", "4", "5", "6", "7", "8", "9")),
            (1, Gen.OneOf("\"1\"", "null", "1.5", "1e3", "[]", "{}", "true", "2147483648", "-9223372036854775809")));
        var invocationId = Field(4, Gen.Const<string?>($"\"{HubFrame.InvocationId}\""),
            Gen.OneOf<string?>("1", "null", "\"\"", "{}", "[]", "\"" + new string('i', 2000) + "\"", "\"\\u0000\""));
        var target = Field(5, Gen.OneOf(methods).Select(m => (string?)$"\"{m}\""),
            Gen.OneOf<string?>("\"\"", "1", "null", "[]", "{}", "\"Typing\\u0000\"", "\"typing \"", "\"OnConnectedAsync\"", "\"" + new string('T', 3000) + "\""));
        var argument = Gen.Frequency(
            (4, inputs.IdText.Select(id => new JString(id).ToString())),
            (2, HostileGen.Number),
            (1, HostileGen.AnyJson(2).Select(j => j.ToString())));
        var arguments = Field(5, argument.Array[0, 3].Select(items => (string?)$"[{string.Join(",", items)}]"),
            Gen.OneOf<string?>("{}", "\"x\"", "1", "null", "[", "[[[[[[[[[[]]]]]]]]]]", "[" + string.Join(",", Enumerable.Repeat("1", 5000)) + "]"));
        var extra = Gen.Frequency(
            (6, Gen.Const("")),
            (1, Gen.OneOf(",\"streamIds\":[\"s\"]", ",\"streamIds\":\"s\"", ",\"streamIds\":[1,null]", ",\"headers\":{\"a\":1}", ",\"headers\":[]",
                ",\"result\":1", ",\"error\":\"x\"", ",\"item\":{}", ",\"allowReconnect\":\"yes\"", ",\"type\":1", ",\"sequenceId\":-1")));
        var structured = Gen.Select(type, invocationId, target, arguments, extra, (t, id, tg, args, more) =>
        {
            var fields = new List<string> { $"\"type\":{t}" };
            if (id is not null)
            {
                fields.Add($"\"invocationId\":{id}");
            }

            if (tg is not null)
            {
                fields.Add($"\"target\":{tg}");
            }

            if (args is not null)
            {
                fields.Add($"\"arguments\":{args}");
            }

            return "{" + string.Join(",", fields) + more + "}";
        });
        var garbage = Gen.OneOf(
            "", " ", "{", "}", "[]", "null", "1", "\"text\"", "{\"type\":}", "{type:1}", "{'type':1}", "\ufeff{\"type\":6}", "{\"type\":6}{\"type\":6}",
            "{\"protocol\":\"json\",\"version\":1}", "{\"protocol\":\"messagepack\",\"version\":1}", "\u0000\u0001\u0002", "\u001e\u001e\u001e",
            new string('[', 3000) + new string(']', 3000), string.Concat(Enumerable.Repeat("{\"a\":", 2000)) + "1" + new string('}', 2000));
        return Gen.Select(Gen.Frequency((8, structured), (2, garbage)), Gen.Frequency((6, Gen.Const(false)), (1, Gen.Const(true))),
            (text, split) => new HubFrame(text, split));
    }
}
