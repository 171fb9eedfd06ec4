using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Whisper.Server.Data;

/// <summary>
/// Many small statements of the group commit writers (a message's insert, a chat's next seqs, a watermark's move)
/// run in the current transaction as plain SQL. Through EF each one cost a command built, its SQL parsed by the
/// database and its result materialised: most of the single writer's time per message (docs/BENCHMARKS.md, fifth
/// round). Here SQLite prepares each distinct statement once per call and binds it again for every row, and
/// PostgreSQL gets all of them in one batch, one network round trip.
/// </summary>
public static class StatementBatch
{
    /// <summary>
    /// Runs the statements in order and answers each one's single value (a column named <c>Value</c>; null when
    /// it returned no row, an <c>UPDATE ... RETURNING</c> that matched nothing, say).
    /// </summary>
    public static Task<List<long?>> FirstValuesAsync(this WhisperDbContext db, IReadOnlyList<FormattableString> statements) =>
        RunAsync(db, statements, readValues: true);

    /// <summary>
    /// Like <see cref="FirstValuesAsync"/>, all of the statements in one transaction: all of them stored or none.
    /// On PostgreSQL, outside a transaction of the caller's, a batch is itself one (Npgsql sends it with one Sync
    /// message; an error rolls back the statements before it and skips those after), so the commit needs no round
    /// trip of its own.
    /// </summary>
    public static async Task<List<long?>> FirstValuesInOneTransactionAsync(this WhisperDbContext db, IReadOnlyList<FormattableString> statements)
    {
        if (db.Database.IsNpgsql() && db.Database.CurrentTransaction is null)
        {
            return await db.FirstValuesAsync(statements);
        }

        await using var transaction = await db.Database.BeginTransactionAsync();
        var values = await db.FirstValuesAsync(statements);
        await transaction.CommitAsync();
        return values;
    }

    /// <summary>Runs the statements in order.</summary>
    public static Task ExecuteAsync(this WhisperDbContext db, IReadOnlyList<FormattableString> statements) =>
        RunAsync(db, statements, readValues: false);

    private static async Task<List<long?>> RunAsync(WhisperDbContext db, IReadOnlyList<FormattableString> statements, bool readValues)
    {
        var values = new List<long?>(readValues ? statements.Count : 0);
        if (statements.Count == 0)
        {
            return values;
        }

        await db.Database.OpenConnectionAsync();
        try
        {
            if (db.Database.IsNpgsql())
            {
                await RunAsOneBatchAsync(db, statements, values, readValues);
            }
            else
            {
                await RunPreparedAsync(db, statements, values, readValues);
            }

            return values;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task RunPreparedAsync(WhisperDbContext db, IReadOnlyList<FormattableString> statements, List<long?> values, bool readValues)
    {
        var mappings = db.GetService<IRelationalTypeMappingSource>();
        // Microsoft.Data.Sqlite keeps a command's prepared statement for as long as its text stays the same.
        var commands = new Dictionary<string, DbCommand>();
        try
        {
            foreach (var statement in statements)
            {
                if (!commands.TryGetValue(statement.Format, out var command))
                {
                    command = db.CreatePlainCommand(WithHoles(statement, i => $"@p{i}"));
                    commands.Add(statement.Format, command);
                }

                command.Parameters.Clear();
                var arguments = statement.GetArguments();
                for (var i = 0; i < arguments.Length; i++)
                {
                    command.AddStored(mappings, $"@p{i}", arguments[i]);
                }

                if (readValues)
                {
                    values.Add(await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value) : null);
                }
                else
                {
                    await command.ExecuteNonQueryAsync();
                }
            }
        }
        finally
        {
            foreach (var command in commands.Values)
            {
                await command.DisposeAsync();
            }
        }
    }

    private static async Task RunAsOneBatchAsync(WhisperDbContext db, IReadOnlyList<FormattableString> statements, List<long?> values, bool readValues)
    {
        await using var batch = db.Database.GetDbConnection().CreateBatch();
        batch.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        foreach (var statement in statements)
        {
            // PostgreSQL's positional parameters ($1, $2, ...) in place of the statement's holes.
            var command = batch.CreateBatchCommand();
            command.CommandText = WithHoles(statement, i => $"${i + 1}");
            foreach (var argument in statement.GetArguments())
            {
                var parameter = command.CreateParameter();
                parameter.Value = argument ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }

            batch.BatchCommands.Add(command);
        }

        if (!readValues)
        {
            await batch.ExecuteNonQueryAsync();
            return;
        }

        await using var reader = await batch.ExecuteReaderAsync();
        foreach (var _ in statements)
        {
            values.Add(await reader.ReadAsync() ? reader.GetInt64(0) : null);
            await reader.NextResultAsync();
        }
    }

    private static string WithHoles(FormattableString statement, Func<int, string> name) =>
        string.Format(statement.Format, Enumerable.Range(0, statement.ArgumentCount).Select(i => (object)name(i)).ToArray());
}
