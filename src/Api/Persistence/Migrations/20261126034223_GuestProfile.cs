using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class GuestProfile : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "profile",
                table: "guests",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "profile",
                table: "guests");
        }
    }
}
