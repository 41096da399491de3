using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class VnfCorrelation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "vnf_instance_id",
                table: "migrations",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "vnfc_instance_id",
                table: "migrations",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "vnf_instance_id",
                table: "guests",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "vnfc_instance_id",
                table: "guests",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_migrations_vnf_instance_id_created_at",
                table: "migrations",
                columns: new[] { "vnf_instance_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_migrations_vnf_instance_id_created_at",
                table: "migrations");

            migrationBuilder.DropColumn(
                name: "vnf_instance_id",
                table: "migrations");

            migrationBuilder.DropColumn(
                name: "vnfc_instance_id",
                table: "migrations");

            migrationBuilder.DropColumn(
                name: "vnf_instance_id",
                table: "guests");

            migrationBuilder.DropColumn(
                name: "vnfc_instance_id",
                table: "guests");
        }
    }
}
