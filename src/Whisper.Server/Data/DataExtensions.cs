using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Data;

public static class DataExtensions
{
    public static IHostApplicationBuilder AddWhisperData(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDbContext<WhisperDbContext, SqliteWhisperDbContext>((services, options) =>
        {
            var whisper = services.GetRequiredService<IOptions<WhisperOptions>>().Value;
            options.UseSqlite(SqliteConnectionString(builder.Configuration, whisper))
                .AddInterceptors(new SqlitePragmas());
        });
        builder.Services.AddHealthChecks().AddDbContextCheck<WhisperDbContext>("database", tags: ["ready"]);
        return builder;
    }

    /// <summary>Creates the data directory and applies pending migrations, unless the operator migrates separately.</summary>
    public static async Task PrepareWhisperDataAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WhisperOptions>>().Value;
        Directory.CreateDirectory(options.FullDataDirectory);
        if (!options.Database.ApplyMigrationsOnStart)
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WhisperDbContext>();
        await db.Database.MigrateAsync();
    }

    private static string SqliteConnectionString(IConfiguration configuration, WhisperOptions whisper) =>
        configuration.GetConnectionString("Whisper")
        ?? $"Data Source={Path.Combine(whisper.FullDataDirectory, "whisper.db")}";
}

/// <summary>Lets the EF tools build the SQLite context when adding migrations (scripts/add-migration.sh).</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteWhisperDbContext>
{
    public SqliteWhisperDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteWhisperDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
