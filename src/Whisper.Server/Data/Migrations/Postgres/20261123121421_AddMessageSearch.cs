using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Postgres
{
    /// <summary>
    /// PostgreSQL full-text search over message content: a stored generated tsvector (the 'simple'
    /// configuration, so no language's stemming is imposed on a multilingual chat) with a GIN index.
    /// Deleted messages have no content, so they drop out of the index by themselves.
    /// </summary>
    public partial class AddMessageSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER TABLE "Messages" ADD COLUMN "SearchVector" tsvector
                    GENERATED ALWAYS AS (to_tsvector('simple', coalesce("Content", ''))) STORED;
                """);
            migrationBuilder.Sql("""CREATE INDEX "IX_Messages_SearchVector" ON "Messages" USING GIN ("SearchVector");""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_Messages_SearchVector";""");
            migrationBuilder.Sql("""ALTER TABLE "Messages" DROP COLUMN "SearchVector";""");
        }
    }
}
