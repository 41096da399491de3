using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class IdempotencyKeysPerClient : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_idempotency_keys",
                table: "idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "client",
                table: "idempotency_keys",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                defaultValue: "anonymous");

            migrationBuilder.AddPrimaryKey(
                name: "pk_idempotency_keys",
                table: "idempotency_keys",
                columns: new[] { "client", "key" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_idempotency_keys",
                table: "idempotency_keys");

            migrationBuilder.DropColumn(
                name: "client",
                table: "idempotency_keys");

            migrationBuilder.AddPrimaryKey(
                name: "pk_idempotency_keys",
                table: "idempotency_keys",
                column: "key");
        }
    }
}
