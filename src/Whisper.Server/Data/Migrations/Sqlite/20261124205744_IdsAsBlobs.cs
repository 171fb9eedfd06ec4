using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Sqlite
{
    /// <summary>
    /// Ids become 16-byte blobs (big-endian, the text's order) instead of 36 characters of text (Data/SqliteIds says
    /// why). The values are converted in place first, while the columns are still declared TEXT (which keeps a blob a
    /// blob), then EF rebuilds each table with BLOB columns, copying them. The search tables' message ids
    /// ("MessageSearchKeys", "MessageSearchPending", declared TEXT as before) are converted too. Dropping "Messages"
    /// in the rebuild drops its search triggers, and EF rebuilds tables after a migration's other operations, so the
    /// next migration (RestoreSearchTriggers) creates them again. The conversion skips values that are blobs already,
    /// and copies left by an interrupted run are dropped first, so the migration can run again after an interruption
    /// between EF's transactions. Text that is not an id would become NULL; in a NOT NULL column that stops the
    /// migration rather than storing it.
    /// </summary>
    public partial class IdsAsBlobs : Migration
    {
        /// <summary>Every id column, by table (the search tables' too).</summary>
        private static readonly (string Table, string[] Columns)[] IdColumns =
        [
            ("Users", ["Id", "AvatarFileId"]),
            ("Sessions", ["Id", "UserId"]),
            ("RefreshTokens", ["SessionId"]),
            ("ReceiptAdvances", ["ChatId", "UserId"]),
            ("PushSubscriptions", ["Id", "SessionId", "UserId"]),
            ("Messages", ["Id", "ChatId", "SenderId", "FileId", "ReplyToId"]),
            ("Files", ["Id", "ChatId", "UploaderId"]),
            ("Chats", ["Id", "CreatedById", "AvatarFileId"]),
            ("ChatMembers", ["ChatId", "UserId"]),
            ("MessageSearchKeys", ["MessageId"]),
            ("MessageSearchPending", ["MessageId"]),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // EF rebuilds in three transactions (copy into ef_temp_ tables; drop and rename; indexes). A start cut off
            // after the first leaves its copies behind, and the copy would fail on them: they are dropped, and made again.
            foreach (var (table, _) in IdColumns)
            {
                migrationBuilder.Sql($"""DROP TABLE IF EXISTS "ef_temp_{table}";""");
            }

            // Keys and the references to them change one table at a time: checked once, at the commit.
            migrationBuilder.Sql("PRAGMA defer_foreign_keys = 1;");
            Convert(migrationBuilder, column => $"""CASE WHEN typeof("{column}") = 'text' THEN unhex(replace("{column}", '-', '')) ELSE "{column}" END""");
            AlterColumnsToBlob(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("PRAGMA defer_foreign_keys = 1;");
            // Back to EF's text: upper-case hexadecimal in the 8-4-4-4-12 groups. The columns stay declared BLOB, which
            // holds text as it is, and the tables are not rebuilt, so the search triggers stay.
            Convert(migrationBuilder, column => $"""
                CASE WHEN typeof("{column}") = 'blob' THEN substr(hex("{column}"), 1, 8) || '-' || substr(hex("{column}"), 9, 4) || '-' || substr(hex("{column}"), 13, 4) || '-' || substr(hex("{column}"), 17, 4) || '-' || substr(hex("{column}"), 21) ELSE "{column}" END
                """);
        }

        private static void Convert(MigrationBuilder migrationBuilder, Func<string, string> convert)
        {
            foreach (var (table, columns) in IdColumns)
            {
                migrationBuilder.Sql($"""UPDATE "{table}" SET {string.Join(", ", columns.Select(c => $"\"{c}\" = {convert(c)}"))};""");
            }
        }

        private static void AlterColumnsToBlob(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<byte[]>(
                name: "AvatarFileId",
                table: "Users",
                type: "BLOB",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "Users",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "UserId",
                table: "Sessions",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "Sessions",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "SessionId",
                table: "RefreshTokens",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "UserId",
                table: "ReceiptAdvances",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "ChatId",
                table: "ReceiptAdvances",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "UserId",
                table: "PushSubscriptions",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "SessionId",
                table: "PushSubscriptions",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "PushSubscriptions",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "SenderId",
                table: "Messages",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "ReplyToId",
                table: "Messages",
                type: "BLOB",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "FileId",
                table: "Messages",
                type: "BLOB",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "ChatId",
                table: "Messages",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "Messages",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "UploaderId",
                table: "Files",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "ChatId",
                table: "Files",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "Files",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "CreatedById",
                table: "Chats",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "AvatarFileId",
                table: "Chats",
                type: "BLOB",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "Id",
                table: "Chats",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "UserId",
                table: "ChatMembers",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AlterColumn<byte[]>(
                name: "ChatId",
                table: "ChatMembers",
                type: "BLOB",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "TEXT");
        }
    }
}
