using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Whisper.Server.Data;

public static class StatementBatch
{
    /// <summary>
    /// Runs the statements in order, in the current transaction, and answers each one's single value (a
    /// column named <c>Value</c>; null when it returned no row, an <c>UPDATE ... RETURNING</c> that matched
    /// nothing, say). On PostgreSQL they go as one batch, one network round trip for all, where one round
    /// trip each left the group commit writers waiting on the network; SQLite is in-process.
    /// </summary>
    public static async Task<List<long?>> FirstValuesAsync(this WhisperDbContext db, IReadOnlyList<FormattableString> statements)
    {
        var values = new List<long?>(statements.Count);
        if (!db.Database.IsNpgsql())
        {
            foreach (var statement in statements)
            {
                values.Add((await db.Database.SqlQuery<long>(statement).ToListAsync()) is [var value] ? value : null);
            }

            return values;
        }

        await using var batch = db.Database.GetDbConnection().CreateBatch();
        batch.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(ToBatchCommand(batch, statement));
        }

        await using var reader = await batch.ExecuteReaderAsync();
        foreach (var _ in statements)
        {
            values.Add(await reader.ReadAsync() ? reader.GetInt64(0) : null);
            await reader.NextResultAsync();
        }

        return values;
    }

    /// <summary>The statement with PostgreSQL's positional parameters ($1, $2, ...) in place of its holes.</summary>
    private static DbBatchCommand ToBatchCommand(DbBatch batch, FormattableString statement)
    {
        var command = batch.CreateBatchCommand();
        var arguments = statement.GetArguments();
        command.CommandText = string.Format(statement.Format, Enumerable.Range(1, arguments.Length).Select(i => (object)$"${i}").ToArray());
        foreach (var argument in arguments)
        {
            var parameter = command.CreateParameter();
            parameter.Value = argument;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
