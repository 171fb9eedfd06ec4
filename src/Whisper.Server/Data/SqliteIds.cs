using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Whisper.Server.Data;

/// <summary>
/// Ids on SQLite are 16-byte blobs, where EF Core's default is 36 characters of text: every key and index entry
/// holding one is less than half as long, so a message's five index entries and its row fill fewer pages, the
/// commit writes less, and the database is about 30% smaller (docs/BENCHMARKS.md, eleventh round). The bytes
/// are in big-endian order (the text's order, as <c>unhex</c> of the text without dashes gives them), not .NET's
/// mixed-endian <see cref="Guid.ToByteArray()"/>: ids then sort as they did as text, and the time-ordered ids
/// (<see cref="Common.Ids"/>) go in at the end of the key's index instead of all over its last minute. PostgreSQL
/// keeps its native <c>uuid</c>.
/// </summary>
internal static class SqliteIds
{
    public static byte[] ToStored(Guid id) => id.ToByteArray(bigEndian: true);

    public static Guid FromStored(byte[] stored) => new(stored, bigEndian: true);

    /// <summary>A stored id read with plain ADO.NET: as a blob on SQLite, as <c>uuid</c> elsewhere.</summary>
    public static Guid GetId(this DbDataReader reader, int ordinal) =>
        reader is SqliteDataReader ? FromStored(reader.GetFieldValue<byte[]>(ordinal)) : reader.GetGuid(ordinal);

    public static Guid? GetIdOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetId(ordinal);

    /// <summary>The model's conversion of every <see cref="Guid"/> property on SQLite (<see cref="SqliteWhisperDbContext"/>).</summary>
    public sealed class Converter() : ValueConverter<Guid, byte[]>(id => ToStored(id), stored => FromStored(stored));
}
