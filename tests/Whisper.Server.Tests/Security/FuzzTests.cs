using System.Reflection;
using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Whisper.Server.Realtime;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Security;

/// <summary>
/// Hostile requests to every endpoint of the OpenAPI document, hostile calls to every hub method and
/// hostile SignalR frames, generated with CsCheck. Whatever comes in: no 5xx, every 4xx a problem-details
/// answer, a hub call refused or the connection closed (never left hanging), nothing in the server's Error
/// log, and a refused request leaves the store exactly as it was.
/// </summary>
public sealed class FuzzTests(FuzzFixture fixture) : IClassFixture<FuzzFixture>
{
    private HostileServer Server => fixture.Server;

    [Fact]
    public async Task Every_endpoint_survives_hostile_requests_without_a_5xx_an_unhandled_exception_or_a_partial_write()
    {
        var operations = await OpenApiOperations.FetchAsync(Server.Anonymous());
        var client = Server.Anonymous();
        var (tried, failures) = (0, new List<string>());

        foreach (var operation in operations)
        {
            var scene = await fixture.SceneAsync();
            // Logging out ends the session that sent it: those cases get a session of their own.
            var token = operation.Path == "/api/logout" ? await fixture.FreshTokenAsync() : fixture.Me.Session.AccessToken;
            var requests = RequestsFor(operation, new HostileInputs(scene.Ids, token));
            var stream = FuzzFixture.StreamOf(operation.Key);
            for (var index = 0; index < fixture.CasesPerEndpoint; index++)
            {
                var request = requests.Generate(new PCG(stream, fixture.Seed + (ulong)index), null!, out _);
                tried++;
                if (await CheckAsync(client, request, token) is { } failure)
                {
                    // One failure per endpoint: later cases would only repeat it.
                    failures.Add($"{operation.Key}, case {index}: {failure}\n    input: {request.Describe()}");
                    break;
                }
            }
        }

        fixture.Endpoints.Add(tried, failures.Count);
        Report(tried, failures);
    }

    [Fact]
    public async Task Every_hub_method_survives_hostile_arguments_with_a_clear_refusal_and_no_partial_write()
    {
        var operations = await OpenApiOperations.FetchAsync(Server.Anonymous());
        var messageShape = operations.Single(o => o.Key == "POST /api/chats/{chatId}/messages").JsonBody!;
        var scene = await fixture.SceneAsync();
        var calls = HubCalls(new HostileInputs(scene.Ids, fixture.Me.Session.AccessToken), messageShape);
        var stream = FuzzFixture.StreamOf("hub");
        var device = await Device.ConnectAsync(Server, fixture.Me);
        var (tried, failures) = (0, new List<string>());
        try
        {
            for (var index = 0; index < fixture.HubCases; index++)
            {
                var call = calls.Generate(new PCG(stream, fixture.Seed + (ulong)index), null!, out _);
                tried++;
                var (failure, connected) = await CheckAsync(device, call);
                if (failure is not null)
                {
                    failures.Add($"hub, case {index}: {failure}\n    input: {call.Describe()}");
                }

                if (!connected)
                {
                    await device.DisposeAsync();
                    device = await Device.ConnectAsync(Server, fixture.Me);
                }
            }
        }
        finally
        {
            await device.DisposeAsync();
        }

        fixture.Hub.Add(tried, failures.Count);
        Report(tried, failures);
    }

    [Fact]
    public async Task Every_hostile_hub_frame_gets_an_answer_or_a_clean_close_and_nothing_else()
    {
        var scene = await fixture.SceneAsync();
        var token = fixture.Me.Session.AccessToken;
        var frames = HostileFrames.For(new HostileInputs(scene.Ids, token), HubMethods());
        // A call that must succeed on a connection that survived the frame: its completion says the frame was dealt with.
        var sentinel = Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"sentinel\",\"target\":\"Typing\",\"arguments\":[\"{scene.Group}\"]}}{RawHub.RecordSeparator}");
        var stream = FuzzFixture.StreamOf("hub frames");
        var (tried, failures) = (0, new List<string>());
        RawHub? hub = null;
        try
        {
            for (var index = 0; index < fixture.FrameCases; index++)
            {
                var frame = frames.Generate(new PCG(stream, fixture.Seed + (ulong)index), null!, out _);
                tried++;
                hub ??= await RawHub.ConnectAsync(Server, token);
                if (await CheckAsync(hub, frame, sentinel) is { } failure)
                {
                    failures.Add($"hub frames, case {index}: {failure}\n    input: {frame.Describe()}");
                }

                if (!hub.Open)
                {
                    await hub.DisposeAsync();
                    hub = null;
                }
            }
        }
        finally
        {
            if (hub is not null)
            {
                await hub.DisposeAsync();
            }
        }

        // Whatever it was sent, the hub still serves an ordinary client.
        await using (var device = await Device.ConnectAsync(Server, fixture.Me))
        {
            await device.Connection.InvokeCoreAsync("Typing", [scene.Group.ToString()]);
        }

        fixture.Frames.Add(tried, failures.Count);
        Report(tried, failures);
    }

    /// <summary>The property every HTTP case must keep; null when it does.</summary>
    private async Task<string?> CheckAsync(HttpClient client, FuzzRequest request, string token)
    {
        var errorsBefore = Server.Errors.Count;
        var before = await StoreFingerprint.TakeAsync(Server);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request.ToMessage(token));
        }
        catch (HttpRequestException exception)
        {
            return $"no answer: {exception.Message}";
        }
        catch (TaskCanceledException)
        {
            return $"no answer within {WhisperServer.RequestTimeout.TotalSeconds} s";
        }

        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (status >= 500)
        {
            return $"answered {status}: {Cut(body)}";
        }

        // Kestrel refuses some requests (an encoded NUL in the path, a request line too long) before the
        // application runs: those answers carry none of our headers and cannot carry a problem.
        var reachedTheApplication = response.Headers.Contains("X-Content-Type-Options");
        if (!reachedTheApplication && status is not (400 or 414 or 431))
        {
            return $"answered {status} from outside the application";
        }

        if (status >= 400 && reachedTheApplication && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"answered {status} without a problem body (Content-Type {response.Content.Headers.ContentType}): {Cut(body)}";
        }

        if (Server.Errors.UnexpectedSince(errorsBefore) is [var logged, ..])
        {
            return $"answered {status} and the server logged: {Cut(logged.ToString())}";
        }

        var after = await StoreFingerprint.TakeAsync(Server);
        if (status is < 200 or >= 300 && StoreFingerprint.Difference(before, after) is { } changed)
        {
            return $"answered {status} but changed the store:\n{changed}";
        }

        if (request.Operation.Body == BodyKind.Multipart && status == 201)
        {
            var (files, objects) = (Count(after, "file ") - Count(before, "file "), Count(after, "object ") - Count(before, "object "));
            if ((files, objects) != (1, 1))
            {
                return $"an upload answered 201 but added {files} file rows and {objects} stored objects";
            }
        }

        return null;
    }

    /// <summary>
    /// The property every frame must keep: the sentinel after it completes, or the server closes the connection
    /// (its answer to a broken protocol); nothing logged; nothing written when the frame was refused.
    /// </summary>
    private async Task<string?> CheckAsync(RawHub hub, HubFrame frame, byte[] sentinel)
    {
        var errorsBefore = Server.Errors.Count;
        var before = await StoreFingerprint.TakeAsync(Server);
        using var timeout = new CancellationTokenSource(Waits.Event);
        var seen = new List<JsonElement>();
        JsonElement? completion;
        try
        {
            var bytes = frame.Bytes;
            if (frame.Split)
            {
                await hub.SendAsync(bytes[..(bytes.Length / 2)], timeout.Token);
                await hub.SendAsync(bytes[(bytes.Length / 2)..], timeout.Token);
            }
            else
            {
                await hub.SendAsync(bytes, timeout.Token);
            }

            await hub.SendAsync(sentinel, timeout.Token);
            completion = await hub.CompletionOfAsync("sentinel", seen, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return $"no answer within {Waits.Event.TotalSeconds} s: neither the sentinel's completion nor a close";
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            // Closed while sending: the server's answer to the frame.
            completion = null;
        }

        if (completion is { } done && done.TryGetProperty("error", out var error))
        {
            return $"the sentinel call after it failed: {error}";
        }

        if (Server.Errors.UnexpectedSince(errorsBefore) is [var logged, ..])
        {
            return $"the server logged: {Cut(logged.ToString())}";
        }

        var refused = completion is null || seen.Any(m =>
            m.GetProperty("type").GetInt32() == 3 && m.TryGetProperty("error", out _)
            && m.TryGetProperty("invocationId", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == HubFrame.InvocationId);
        if (refused && StoreFingerprint.Difference(before, await StoreFingerprint.TakeAsync(Server)) is { } changed)
        {
            return $"refused but changed the store:\n{changed}";
        }

        return null;
    }

    /// <summary>The property every hub case must keep: done or a HubException, still connected, nothing logged, nothing written when refused.</summary>
    private async Task<(string? Failure, bool Connected)> CheckAsync(Device device, HubCall call)
    {
        var errorsBefore = Server.Errors.Count;
        var before = await StoreFingerprint.TakeAsync(Server);
        var refused = false;
        string? failure = null;
        try
        {
            using var timeout = new CancellationTokenSource(Waits.Event);
            await device.Connection.InvokeCoreAsync(call.Method, typeof(object), call.Arguments(), timeout.Token);
        }
        catch (HubException)
        {
            refused = true;
        }
        catch (Exception exception) when (exception is not Xunit.Sdk.IAssertionException)
        {
            failure = $"the call failed with {exception.GetType().Name}: {exception.Message}";
        }

        var connected = device.Connection.State == HubConnectionState.Connected;
        if (failure is null && !connected && !call.MayExceedTheFrameLimit)
        {
            failure = "the server closed the connection";
        }

        if (failure is not null && !connected && call.MayExceedTheFrameLimit)
        {
            // SignalR closes a connection whose frame is over MaximumReceiveMessageSize (64 KB): by design.
            failure = null;
        }

        if (failure is null && Server.Errors.UnexpectedSince(errorsBefore) is [var logged, ..])
        {
            failure = $"the server logged: {Cut(logged.ToString())}";
        }

        if (failure is null && refused && StoreFingerprint.Difference(before, await StoreFingerprint.TakeAsync(Server)) is { } changed)
        {
            failure = $"refused but changed the store:\n{changed}";
        }

        return (failure, connected);
    }

    private static Gen<FuzzRequest> RequestsFor(ApiOperation operation, HostileInputs inputs)
    {
        var body = operation.Body switch
        {
            BodyKind.Json => inputs.JsonBody(operation.JsonBody).Select(json => ((string?)json, (MultipartBody?)null)),
            BodyKind.Multipart => HostileMultipart.Body.Select(form => ((string?)null, (MultipartBody?)form)),
            _ => Gen.Const(((string?)null, (MultipartBody?)null)),
        };
        return Gen.Select(
            inputs.PathFor(operation), inputs.Query(operation), body, HostileGen.ContentType, HostileGen.Headers, HostileInputs.Auth, inputs.GarbageAuthorization,
            (path, query, content, contentType, headers, auth, garbage) =>
                new FuzzRequest(operation, path, query, content.Item1, content.Item2, content.Item1 is null && content.Item2 is null ? null : contentType, headers, auth, garbage));
    }

    /// <summary>Hub calls: mostly a real method with arguments of about the right shape, else anything.</summary>
    private static Gen<HubCall> HubCalls(HostileInputs inputs, ValueShape messageShape)
    {
        var method = Gen.Frequency(
            (8, Gen.OneOf(HubMethods())),
            // No empty name: the client library refuses to send one (the raw frame tests do).
            (1, Gen.OneOf("sendmessage", "MARKREAD", "OnConnectedAsync", "OnDisconnectedAsync", "Dispose", "ToString", "GetType", " ", new string('M', 500))));
        var hugeText = Gen.Frequency((6, HostileGen.ShortText), (1, Gen.Int[10_000, 30_000].Select(n => new string('x', n))));
        var argument = Gen.Frequency(
            (4, inputs.IdText.Select(id => (JsonText)new JString(id))),
            (2, HostileGen.Number.Select(n => (JsonText)new JRaw(n))),
            (1, Gen.Const<JsonText>(new JRaw("null"))),
            (1, hugeText.Select(s => (JsonText)new JString(s))),
            (2, inputs.ObjectOf(messageShape)),
            (1, HostileGen.AnyJson(2)));
        var shaped = Gen.Select(inputs.IdText, argument, Gen.Int[1, 2], (chatId, second, count) =>
            count == 1 ? new JsonText[] { new JString(chatId) } : [new JString(chatId), second]);
        var arguments = Gen.Frequency((6, shaped), (2, argument.Array[0, 4]));
        return Gen.Select(method, arguments, (name, args) => new HubCall(name, args));
    }

    /// <summary>What SignalR exposes: public instance methods declared by ChatHub itself.</summary>
    private static string[] HubMethods() => typeof(ChatHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(ChatHub)).Select(m => m.Name).ToArray();

    private void Report(int tried, List<string> failures)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"{tried} cases, {failures.Count} failures; replay this run with WHISPER_FUZZ_SEED={fixture.Seed}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {tried} cases failed (WHISPER_FUZZ_SEED={fixture.Seed}):\n{string.Join("\n", failures)}");
    }

    private static int Count(IReadOnlyList<string> lines, string prefix) => lines.Count(l => l.StartsWith(prefix, StringComparison.Ordinal));

    private static string Cut(string text) => text.Length <= 500 ? text : text[..500] + "…";
}

/// <summary>One generated hub invocation.</summary>
public sealed record HubCall(string Method, JsonText[] Args)
{
    /// <summary>The arguments as JSON elements, which the client's JSON protocol writes as they are.</summary>
    public object?[] Arguments() => Args.Select(ToElement).ToArray();

    /// <summary>Near or over the hub's 64 KB frame limit, where SignalR closes the connection instead of answering.</summary>
    public bool MayExceedTheFrameLimit =>
        Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(Arguments(), Whisper.Client.WhisperClient.JsonOptions)) + Encoding.UTF8.GetByteCount(Method) > 60 * 1024;

    public string Describe() => $"{(Method.Length > 60 ? Method[..60] + "…" : Method)}({string.Join(", ", Args.Select(a => Cut(a.ToString())))})";

    /// <summary>What the client library cannot even send (a lone surrogate) is sent as null instead.</summary>
    private static object? ToElement(JsonText argument)
    {
        try
        {
            using var document = JsonDocument.Parse(argument.ToString());
            var element = document.RootElement.Clone();
            _ = JsonSerializer.Serialize(element);
            return element;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static string Cut(string text) => text.Length <= 120 ? text : $"{text[..120]}… ({text.Length} chars)";
}
