using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Whisper.Server.Data;

/// <summary>
/// The one store of Whisper. Each database provider derives its own context type only so that its
/// migrations are kept apart (<see cref="SqliteWhisperDbContext"/>); feature code depends on this class.
/// </summary>
public abstract class WhisperDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<Chat> Chats => Set<Chat>();
    public DbSet<ChatMember> ChatMembers => Set<ChatMember>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<ReceiptAdvance> ReceiptAdvances => Set<ReceiptAdvance>();
    public DbSet<StoredFile> Files => Set<StoredFile>();
    public DbSet<PushSubscription> PushSubscriptions => Set<PushSubscription>();

    /// <summary>
    /// Whether this is the PostgreSQL store, for the few statements that differ by provider. Known from the type:
    /// EF's <c>Database.IsNpgsql()</c> compares assembly names, building them on every call, which showed in the
    /// profile of a read-receipt storm (docs/BENCHMARKS.md, eighth round).
    /// </summary>
    public bool IsPostgres => this is PostgresWhisperDbContext;

    private IRelationalTypeMappingSource? typeMappings;

    /// <summary>
    /// How a value of this type is stored, for plain commands' parameters (<see cref="PlainCommands.AddStored"/>): the
    /// provider's mapping with this model's default conversions (on SQLite, ids as blobs: <see cref="SqliteIds"/>).
    /// </summary>
    internal RelationalTypeMapping StoredMappingOf(Type type) =>
        (typeMappings ??= this.GetService<IRelationalTypeMappingSource>()).FindMapping(type, Model)
        ?? throw new InvalidOperationException($"The store has no mapping for {type}.");

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(WhisperDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // UTC everywhere: SQLite hands DateTime back as Unspecified, which would serialize without a 'Z'.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        toStore => toStore.Kind == DateTimeKind.Utc ? toStore : toStore.ToUniversalTime(),
        fromStore => DateTime.SpecifyKind(fromStore, DateTimeKind.Utc));
}

/// <summary>The SQLite flavour of the store; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteWhisperDbContext(DbContextOptions<SqliteWhisperDbContext> options) : WhisperDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // Ids as 16-byte blobs rather than text (SqliteIds says why).
        configurationBuilder.Properties<Guid>().HaveConversion<SqliteIds.Converter>();
        configurationBuilder.Properties<Guid?>().HaveConversion<SqliteIds.Converter>();
        // And ids that are no column's, as plain commands bind them (StoredMappingOf). EF's own raw SQL (SqlQuery, FromSql,
        // ExecuteSql) does not consult this for its parameters (dotnet/efcore#27354): an id goes to it as SqliteIds.ToStored(id).
        configurationBuilder.DefaultTypeMapping<Guid>().HasConversion<SqliteIds.Converter>();
    }
}

/// <summary>The PostgreSQL flavour of the store; its migrations live in Data/Migrations/Postgres.</summary>
public sealed class PostgresWhisperDbContext(DbContextOptions<PostgresWhisperDbContext> options) : WhisperDbContext(options);
