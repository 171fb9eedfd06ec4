using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Sqlite
{
    /// <summary>
    /// A new message is no longer indexed inside its send's transaction: the insert trigger only queues its id
    /// in MessageSearchPending, and <c>Messages.SearchIndexer</c> indexes the queue in large batches, before
    /// every search and shortly after sends. FTS5 writes an index segment per commit, so indexing twenty
    /// messages per group commit cost about as much as storing them; in batches of hundreds it costs a fifth.
    /// Edits and deletes still update the index in their own transaction (trigger Messages_Search_Update), and
    /// the indexer skips a queued message that an edit has indexed already or that is deleted.
    /// </summary>
    public partial class IndexMessageSearchInBatches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE "MessageSearchPending" ("Id" INTEGER PRIMARY KEY, "MessageId" TEXT NOT NULL);
                """);
            migrationBuilder.Sql("""DROP TRIGGER "Messages_Search_Insert";""");
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Insert" AFTER INSERT ON "Messages"
                WHEN NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL
                BEGIN
                    INSERT INTO "MessageSearchPending" ("MessageId") VALUES (NEW."Id");
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Whatever is still queued is indexed here, as the old trigger would have done.
            migrationBuilder.Sql("""
                INSERT INTO "MessageSearchKeys" ("MessageId")
                SELECT m."Id" FROM "MessageSearchPending" AS p JOIN "Messages" AS m ON m."Id" = p."MessageId"
                WHERE m."Content" IS NOT NULL AND m."DeletedAt" IS NULL
                    AND NOT EXISTS (SELECT 1 FROM "MessageSearchKeys" AS k WHERE k."MessageId" = m."Id")
                ORDER BY p."Id";
                """);
            migrationBuilder.Sql("""
                INSERT INTO "MessageSearch" (rowid, "Content")
                SELECT k."RowId", m."Content" FROM "MessageSearchKeys" AS k JOIN "Messages" AS m ON m."Id" = k."MessageId"
                WHERE k."RowId" NOT IN (SELECT rowid FROM "MessageSearch");
                """);
            migrationBuilder.Sql("""DROP TRIGGER "Messages_Search_Insert";""");
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Insert" AFTER INSERT ON "Messages"
                WHEN NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL
                BEGIN
                    INSERT INTO "MessageSearchKeys" ("MessageId") VALUES (NEW."Id");
                    INSERT INTO "MessageSearch" (rowid, "Content") VALUES (last_insert_rowid(), NEW."Content");
                END;
                """);
            migrationBuilder.Sql("""DROP TABLE "MessageSearchPending";""");
        }
    }
}
