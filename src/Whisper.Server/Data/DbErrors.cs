using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Whisper.Server.Data;

public static class DbErrors
{
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraint = 19;
    private const string PostgresUniqueViolation = "23505";
    private const string PostgresIntegrityConstraintViolations = "23";

    /// <summary>True when a write lost a race on a unique key (the way "create once" is enforced).</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is DbException inner && inner.IsUniqueViolation();

    /// <inheritdoc cref="IsUniqueViolation(DbUpdateException)"/>
    public static bool IsUniqueViolation(this DbException exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        _ => exception.SqlState == PostgresUniqueViolation,
    };

    /// <summary>True when the schema refused a write: a unique or foreign key, a check, a missing value.</summary>
    public static bool IsConstraintViolation(this DbException exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteConstraint,
        _ => exception.SqlState?.StartsWith(PostgresIntegrityConstraintViolations, StringComparison.Ordinal) == true,
    };
}
