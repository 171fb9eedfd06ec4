using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Options;
using Npgsql;
using Whisper.Server.Common;

namespace Whisper.Server.Data;

public static class DataExtensions
{
    /// <summary>
    /// The store on the configured provider; feature code only sees <see cref="WhisperDbContext"/>.
    /// The provider is read when a context is made, from the final configuration.
    /// </summary>
    public static IHostApplicationBuilder AddWhisperData(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        SqlitePragmas.UseMultiThreadMode();
        // Pooled: a context's options are built once rather than for every request and hub call, and the
        // contexts themselves are reused (the profile of a busy server showed options building at ~10% of its CPU).
        services.AddDbContextPool<SqliteWhisperDbContext>((provider, options) =>
        {
            var whisper = provider.GetRequiredService<IOptions<WhisperOptions>>().Value;
            options.UseSqlite(ConnectionString(provider) ?? $"Data Source={Path.Combine(whisper.FullDataDirectory, "whisper.db")}")
                .AddInterceptors(new SqlitePragmas());
        });
        services.AddDbContextPool<PostgresWhisperDbContext>((provider, options) => options.UseNpgsql(WithNpgsqlDefaults(
            ConnectionString(provider) ?? throw new InvalidOperationException("Whisper:Database:Provider=Postgres needs ConnectionStrings:Whisper."))));
        services.AddScoped<WhisperDbContext>(provider =>
            provider.GetRequiredService<IOptions<WhisperOptions>>().Value.Database.Provider == DatabaseProvider.Postgres
                ? provider.GetRequiredService<PostgresWhisperDbContext>()
                : provider.GetRequiredService<SqliteWhisperDbContext>());
        services.AddHostedService<SqliteCheckpointer>();
        services.AddHealthChecks().AddDbContextCheck<WhisperDbContext>("database", tags: ["ready"]);
        return builder;
    }

    private static string? ConnectionString(IServiceProvider provider) =>
        provider.GetRequiredService<IConfiguration>().GetConnectionString("Whisper");

    /// <summary>
    /// Npgsql settings Whisper chooses unless the connection string names them itself (an operator's own value, 0
    /// included, stays):
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare=64</c>: the hot paths repeat a few statements, and unprepared, PostgreSQL parses and
    /// plans each one every time (about a quarter of its CPU in a read-receipt storm, see docs/BENCHMARKS.md).
    /// <c>Max Auto Prepare=0</c> turns it off, for a pooler that cannot keep prepared statements.</item>
    /// <item><c>Maximum Pool Size=20</c> (Npgsql's own default is 100): a context holds a connection only while its
    /// statement runs, so a few connections serve a busy node, and PostgreSQL runs them faster than a hundred
    /// backends competing for the same cores (docs/BENCHMARKS.md, sixth round). Five nodes also fit within
    /// PostgreSQL's default <c>max_connections</c> of 100.</item>
    /// </list>
    /// </summary>
    internal static string WithNpgsqlDefaults(string connectionString)
    {
        // The plain builder holds exactly the keys the string names; Npgsql's answers a default for every setting.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Names(given, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        if (!Names(given, "Maximum Pool Size", "MaxPoolSize"))
        {
            // Never below an operator's own minimum, which Npgsql refuses when it exceeds the maximum.
            builder.MaxPoolSize = Math.Max(20, builder.MinPoolSize);
        }

        return builder.ConnectionString;

        static bool Names(DbConnectionStringBuilder given, params string[] keys) => keys.Any(given.ContainsKey);
    }

    /// <summary>Creates the data directory, puts SQLite in WAL mode and applies pending migrations (unless the operator migrates separately).</summary>
    public static async Task PrepareWhisperDataAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WhisperOptions>>().Value;
        Directory.CreateDirectory(options.FullDataDirectory);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        if (options.Database.ApplyMigrationsOnStart)
        {
            await db.Database.MigrateAsync();
        }

        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync(SqlitePragmas.EnableWriteAheadLog);
        }
    }
}

/// <summary>Lets the EF tools build the SQLite context when adding migrations (scripts/add-migration.sh).</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteWhisperDbContext>
{
    public SqliteWhisperDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteWhisperDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>Lets the EF tools build the PostgreSQL context; adding a migration needs no server.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresWhisperDbContext>
{
    public PostgresWhisperDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresWhisperDbContext>().UseNpgsql("Host=localhost;Database=whisper_design").Options);
}
