using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class LeasesAndAbort : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "lease_expires_at",
                table: "migrations");

            migrationBuilder.DropColumn(
                name: "lease_owner",
                table: "migrations");

            migrationBuilder.AddColumn<string>(
                name: "abort_reason",
                table: "migrations",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "migration_leases",
                columns: table => new
                {
                    migration_id = table.Column<Guid>(type: "uuid", nullable: false),
                    owner = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_migration_leases", x => x.migration_id);
                    table.ForeignKey(
                        name: "fk_migration_leases_migrations_migration_id",
                        column: x => x.migration_id,
                        principalTable: "migrations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_migration_leases_owner",
                table: "migration_leases",
                column: "owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "migration_leases");

            migrationBuilder.DropColumn(
                name: "abort_reason",
                table: "migrations");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "lease_expires_at",
                table: "migrations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "lease_owner",
                table: "migrations",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);
        }
    }
}
