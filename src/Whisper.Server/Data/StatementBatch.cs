using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Whisper.Server.Data;

/// <summary>
/// The group commit writers' many small statements (a chat's next seqs, a message's insert, a watermark's move),
/// run as plain SQL in one transaction. Through EF each one cost a command built, its SQL parsed by the database and
/// its result materialised: most of the single writer's time per message (docs/BENCHMARKS.md, fifth round). Here
/// SQLite prepares each distinct statement once per call and binds it again for every row, and PostgreSQL gets all
/// of them in one batch: one network round trip, the commit included (seventh round).
/// </summary>
public static class StatementBatch
{
    /// <summary>
    /// Runs the statements in order, all in one transaction (all of them stored or none), and answers each one's
    /// single value: a column named <c>Value</c>, null when it returned no row (an <c>UPDATE ... RETURNING</c> that
    /// matched nothing, say).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Every statement must return rows, even none: a <c>SELECT</c> or a <c>RETURNING</c> clause. Npgsql's reader
    /// passes over statements that return no rows at all, which would give the answers after them to the wrong ones.
    /// </para>
    /// <para>
    /// On PostgreSQL the batch is its own transaction: Npgsql sends it with one Sync message, and an error rolls back
    /// the statements before it and skips those after. So the commit needs no round trip of its own.
    /// </para>
    /// </remarks>
    public static async Task<List<long?>> RunInOneTransactionAsync(this WhisperDbContext db, IReadOnlyList<FormattableString> statements)
    {
        var values = new List<long?>(statements.Count);
        if (statements.Count == 0)
        {
            return values;
        }

        await db.Database.OpenConnectionAsync();
        try
        {
            if (db.IsPostgres)
            {
                await RunAsOneBatchAsync(db, statements, values);
            }
            else
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                await RunPreparedAsync(db, statements, values);
                await transaction.CommitAsync();
            }

            return values;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task RunPreparedAsync(WhisperDbContext db, IReadOnlyList<FormattableString> statements, List<long?> values)
    {
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
                    command.AddStored(db, $"@p{i}", arguments[i]);
                }

                values.Add(await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value) : null);
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

    private static async Task RunAsOneBatchAsync(WhisperDbContext db, IReadOnlyList<FormattableString> statements, List<long?> values)
    {
        await using var batch = db.Database.GetDbConnection().CreateBatch();
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
