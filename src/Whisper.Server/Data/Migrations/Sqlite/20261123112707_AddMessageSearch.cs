using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Sqlite
{
    /// <summary>
    /// SQLite full-text search over message content with FTS5. Triggers keep the index in step with the
    /// Messages table inside the same transaction. FTS5 rows are keyed by an integer, so
    /// MessageSearchKeys maps each message id to one with an explicit INTEGER PRIMARY KEY, which (unlike
    /// an implicit rowid) VACUUM never renumbers.
    /// </summary>
    public partial class AddMessageSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE "MessageSearchKeys" ("RowId" INTEGER PRIMARY KEY, "MessageId" TEXT NOT NULL UNIQUE);
                """);
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE "MessageSearch" USING fts5("Content", tokenize = 'unicode61 remove_diacritics 2');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Insert" AFTER INSERT ON "Messages"
                WHEN NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL
                BEGIN
                    INSERT INTO "MessageSearchKeys" ("MessageId") VALUES (NEW."Id");
                    INSERT INTO "MessageSearch" (rowid, "Content") VALUES (last_insert_rowid(), NEW."Content");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Update" AFTER UPDATE OF "Content", "DeletedAt" ON "Messages"
                BEGIN
                    DELETE FROM "MessageSearch" WHERE rowid = (SELECT "RowId" FROM "MessageSearchKeys" WHERE "MessageId" = OLD."Id");
                    DELETE FROM "MessageSearchKeys" WHERE "MessageId" = OLD."Id";
                    INSERT INTO "MessageSearchKeys" ("MessageId")
                        SELECT NEW."Id" WHERE NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL;
                    INSERT INTO "MessageSearch" (rowid, "Content")
                        SELECT last_insert_rowid(), NEW."Content" WHERE NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Delete" AFTER DELETE ON "Messages"
                BEGIN
                    DELETE FROM "MessageSearch" WHERE rowid = (SELECT "RowId" FROM "MessageSearchKeys" WHERE "MessageId" = OLD."Id");
                    DELETE FROM "MessageSearchKeys" WHERE "MessageId" = OLD."Id";
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER "Messages_Search_Delete";""");
            migrationBuilder.Sql("""DROP TRIGGER "Messages_Search_Update";""");
            migrationBuilder.Sql("""DROP TRIGGER "Messages_Search_Insert";""");
            migrationBuilder.Sql("""DROP TABLE "MessageSearch";""");
            migrationBuilder.Sql("""DROP TABLE "MessageSearchKeys";""");
        }
    }
}
