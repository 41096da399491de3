using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PageStreams : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "page_stream_port",
                table: "migrations",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "page_stream_token",
                table: "migrations",
                type: "bytea",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "page_stream_port",
                table: "migrations");

            migrationBuilder.DropColumn(
                name: "page_stream_token",
                table: "migrations");
        }
    }
}
