using Npgsql;
using Whisper.Server.Data;

namespace Whisper.Server.Tests.Units;

public sealed class ConnectionStringTests
{
    [Fact]
    public void Automatic_preparation_is_on_unless_the_connection_string_says()
    {
        Assert.Equal(64, new NpgsqlConnectionStringBuilder(DataExtensions.WithAutoPrepare("Host=db;Username=whisper")).MaxAutoPrepare);
        Assert.Equal("whisper", new NpgsqlConnectionStringBuilder(DataExtensions.WithAutoPrepare("Host=db;Username=whisper")).Username);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;max auto prepare=10", 10)]
    [InlineData("Host=db;MaxAutoPrepare=20", 20)]
    public void An_operators_own_setting_stays(string connectionString, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DataExtensions.WithAutoPrepare(connectionString)).MaxAutoPrepare);
}
