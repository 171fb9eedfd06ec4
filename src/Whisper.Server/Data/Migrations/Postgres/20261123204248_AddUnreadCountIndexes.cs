using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Whisper.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddUnreadCountIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Messages_ChatId_SenderId_Seq",
                table: "Messages",
                columns: new[] { "ChatId", "SenderId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_Messages_ChatId_Seq_Deleted",
                table: "Messages",
                columns: new[] { "ChatId", "Seq" },
                filter: "\"DeletedAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_ChatId_SenderId_Seq",
                table: "Messages");

            migrationBuilder.DropIndex(
                name: "IX_Messages_ChatId_Seq_Deleted",
                table: "Messages");
        }
    }
}
