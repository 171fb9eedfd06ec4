using System.Text.Json;

namespace Whisper.Server.Tests.Security;

public enum BodyKind { None, Json, Multipart }

public enum ValueKind { String, Uuid, DateTime, Integer, Number, Boolean, Enum, Array, Object }

/// <summary>The shape of one JSON value as the OpenAPI document describes it: enough to build a body of the right shape.</summary>
public sealed record ValueShape(ValueKind Kind, IReadOnlyList<string> EnumValues, ValueShape? Items, IReadOnlyList<(string Name, ValueShape Shape)> Properties);

/// <summary>One operation of the OpenAPI document, keyed as "METHOD /path/{template}".</summary>
public sealed record ApiOperation(
    string Method, string Path, BodyKind Body, ValueShape? JsonBody,
    IReadOnlyList<(string Name, ValueShape Shape)> Query, IReadOnlyList<string> PathParameters)
{
    public string Key => $"{Method} {Path}";

    public override string ToString() => Key;
}

/// <summary>Reads the server's own OpenAPI document, so the hostile tests follow the API as it is, not as it was.</summary>
public static class OpenApiOperations
{
    public static async Task<IReadOnlyList<ApiOperation>> FetchAsync(HttpClient anonymous)
    {
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        return Parse(document.RootElement);
    }

    public static IReadOnlyList<ApiOperation> Parse(JsonElement root)
    {
        var schemas = root.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var s) ? s : default;
        var operations = new List<ApiOperation>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var query = new List<(string, ValueShape)>();
                var pathParameters = new List<string>();
                if (operation.Value.TryGetProperty("parameters", out var parameters))
                {
                    foreach (var parameter in parameters.EnumerateArray())
                    {
                        var name = parameter.GetProperty("name").GetString()!;
                        if (parameter.GetProperty("in").GetString() == "path")
                        {
                            pathParameters.Add(name);
                        }
                        else if (parameter.GetProperty("in").GetString() == "query")
                        {
                            query.Add((name, ShapeOf(parameter.GetProperty("schema"), schemas, depth: 0)));
                        }
                    }
                }

                var (body, jsonBody) = (BodyKind.None, (ValueShape?)null);
                if (operation.Value.TryGetProperty("requestBody", out var requestBody) && requestBody.TryGetProperty("content", out var content))
                {
                    if (content.TryGetProperty("application/json", out var json))
                    {
                        (body, jsonBody) = (BodyKind.Json, ShapeOf(json.GetProperty("schema"), schemas, depth: 0));
                    }
                    else if (content.TryGetProperty("multipart/form-data", out _))
                    {
                        body = BodyKind.Multipart;
                    }
                }

                operations.Add(new ApiOperation(operation.Name.ToUpperInvariant(), path.Name, body, jsonBody, query, pathParameters));
            }
        }

        return operations;
    }

    private static ValueShape ShapeOf(JsonElement schema, JsonElement schemas, int depth)
    {
        if (depth > 8)
        {
            return Simple(ValueKind.Object);
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            return ShapeOf(schemas.GetProperty(name), schemas, depth + 1);
        }

        if (schema.TryGetProperty("oneOf", out var oneOf) || schema.TryGetProperty("anyOf", out oneOf))
        {
            // "null or X": the X is the shape worth filling.
            var choice = oneOf.EnumerateArray().FirstOrDefault(o => !(o.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "null"));
            return choice.ValueKind == JsonValueKind.Object ? ShapeOf(choice, schemas, depth + 1) : Simple(ValueKind.String);
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            return new ValueShape(ValueKind.Enum, values.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList(), null, []);
        }

        var type = TypeOf(schema);
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        return type switch
        {
            "array" => new ValueShape(ValueKind.Array, [], schema.TryGetProperty("items", out var items) ? ShapeOf(items, schemas, depth + 1) : Simple(ValueKind.String), []),
            "object" => new ValueShape(ValueKind.Object, [], null, schema.TryGetProperty("properties", out var properties)
                ? properties.EnumerateObject().Select(p => (p.Name, ShapeOf(p.Value, schemas, depth + 1))).ToList()
                : []),
            "integer" => Simple(ValueKind.Integer),
            "number" => Simple(ValueKind.Number),
            "boolean" => Simple(ValueKind.Boolean),
            _ when format == "uuid" => Simple(ValueKind.Uuid),
            _ when format == "date-time" => Simple(ValueKind.DateTime),
            _ => Simple(ValueKind.String),
        };
    }

    /// <summary>The type, leaving out "null" (and preferring integer over string for the "integer or string" of query numbers).</summary>
    private static string? TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : null;
        }

        if (type.ValueKind == JsonValueKind.String)
        {
            return type.GetString();
        }

        var types = type.EnumerateArray().Select(t => t.GetString()).Where(t => t != "null").ToList();
        return types.Contains("integer") ? "integer" : types.FirstOrDefault();
    }

    private static ValueShape Simple(ValueKind kind) => new(kind, [], null, []);
}
