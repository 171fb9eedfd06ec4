namespace Whisper.Server.Tests.Faults;

/// <summary>
/// The fault tests load the whole machine, kill servers and restart the shared PostgreSQL and Redis:
/// they run on their own, after the rest of the suite, one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection
{
    public const string Name = "Faults";
}
