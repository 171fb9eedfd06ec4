using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Sqlite
{
    /// <summary>
    /// The search triggers on "Messages", as IndexMessageSearchInBatches left them: IdsAsBlobs rebuilt the table,
    /// which dropped them, and EF runs a migration's rebuilds after its other operations, so they could not be
    /// created again there.
    /// </summary>
    public partial class RestoreSearchTriggers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TRIGGER "Messages_Search_Insert" AFTER INSERT ON "Messages"
                WHEN NEW."Content" IS NOT NULL AND NEW."DeletedAt" IS NULL
                BEGIN
                    INSERT INTO "MessageSearchPending" ("MessageId") VALUES (NEW."Id");
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
            // Nothing: IdsAsBlobs' Down converts the values back without rebuilding "Messages", so the triggers
            // created here are the ones the earlier migrations expect to find.
        }
    }
}
