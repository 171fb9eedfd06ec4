using Npgsql;
using Whisper.Server.Data;

namespace Whisper.Server.Tests.Units;

public sealed class ConnectionStringTests
{
    [Fact]
    public void Automatic_preparation_and_a_small_pool_are_the_defaults_unless_the_connection_string_says()
    {
        var chosen = new NpgsqlConnectionStringBuilder(DataExtensions.WithNpgsqlDefaults("Host=db;Username=whisper"));

        Assert.Equal(64, chosen.MaxAutoPrepare);
        Assert.Equal(20, chosen.MaxPoolSize);
        Assert.Equal("whisper", chosen.Username);
        Assert.Equal("db", chosen.Host);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;max auto prepare=10", 10)]
    [InlineData("Host=db;MaxAutoPrepare=20", 20)]
    public void An_operators_own_preparation_setting_stays(string connectionString, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DataExtensions.WithNpgsqlDefaults(connectionString)).MaxAutoPrepare);

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=100", 100)]
    [InlineData("Host=db;maximum pool size=5", 5)]
    [InlineData("Host=db;MaxPoolSize=8", 8)]
    public void An_operators_own_pool_size_stays(string connectionString, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DataExtensions.WithNpgsqlDefaults(connectionString)).MaxPoolSize);

    [Fact]
    public void The_pool_is_never_smaller_than_an_operators_own_minimum() =>
        Assert.Equal(30, new NpgsqlConnectionStringBuilder(DataExtensions.WithNpgsqlDefaults("Host=db;Minimum Pool Size=30")).MaxPoolSize);
}
