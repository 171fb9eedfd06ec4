namespace Whisper.Server.Common;

/// <summary>Collects field errors so one answer names every problem of a request at once.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> errors = [];

    public bool Any => errors.Count > 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out var messages))
        {
            errors[field] = messages = [];
        }

        messages.Add(message);
        return this;
    }

    public ValidationErrors Require(bool condition, string field, string message) => condition ? this : Add(field, message);

    public Failure ToFailure() => Failure.Invalid(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
