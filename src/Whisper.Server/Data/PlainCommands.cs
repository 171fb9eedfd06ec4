using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Whisper.Server.Data;

/// <summary>
/// Plain ADO.NET commands on a context's connection, for the hot paths that skip EF's query and update pipelines
/// (<see cref="Messages.MessagePages"/>, <see cref="Chats.ChatViews"/>, <see cref="StatementBatch"/>, a read
/// receipt's <see cref="Receipts.ReceiptService"/>).
/// </summary>
internal static class PlainCommands
{
    /// <summary>A command on the context's connection, in its current transaction, if any.</summary>
    public static DbCommand CreatePlainCommand(this WhisperDbContext db, string sql)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

    /// <summary>
    /// Adds a parameter bound as the store keeps a value of its type (<see cref="WhisperDbContext.StoredMappingOf"/>): an id
    /// as a 16-byte blob on SQLite and as <c>uuid</c> on PostgreSQL, say. A null is bound as NULL.
    /// </summary>
    public static void AddStored(this DbCommand command, WhisperDbContext db, string name, object? value)
    {
        if (value is null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = DBNull.Value;
            command.Parameters.Add(parameter);
            return;
        }

        command.Parameters.Add(db.StoredMappingOf(value.GetType()).CreateParameter(command, name, value));
    }

    /// <summary>Adds <c>@{prefix}0, @{prefix}1, ...</c> bound to the values, and answers them as a list for an <c>IN (...)</c>.</summary>
    public static string AddStoredList<T>(this DbCommand command, WhisperDbContext db, string prefix, IReadOnlyList<T> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            names[i] = $"@{prefix}{i}";
            command.AddStored(db, names[i], values[i]);
        }

        return string.Join(", ", names);
    }

    /// <summary>Runs the command and reads each row it returns with <paramref name="read"/>.</summary>
    public static async Task<List<T>> ReadRowsAsync<T>(
        this DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken, int expectedRows = 0)
    {
        var rows = new List<T>(expectedRows);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    // Stored as UTC on both providers; SQLite hands it back unspecified (as WhisperDbContext's converter says).
    public static DateTime GetUtc(this DbDataReader reader, int ordinal) => DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    public static DateTime? GetUtcOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetUtc(ordinal);

    public static string? GetStringOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
