using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class EventLogPositions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_migration_events_migration_id_id",
                table: "migration_events");

            migrationBuilder.AddColumn<long>(
                name: "position",
                table: "migration_events",
                type: "bigint",
                nullable: true);

            // Rows written before the sequencer were made visible in id order (under the writers' lock): their ids
            // are their positions, and the head of the log starts after the last.
            migrationBuilder.Sql("UPDATE migration_events SET position = id;");
            migrationBuilder.Sql("""
                CREATE TABLE migration_event_head (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    position bigint NOT NULL);
                INSERT INTO migration_event_head (position) SELECT coalesce(max(id), 0) FROM migration_events;
                """);

            migrationBuilder.CreateIndex(
                name: "ix_migration_events_migration_id_position",
                table: "migration_events",
                columns: new[] { "migration_id", "position" });

            migrationBuilder.CreateIndex(
                name: "ix_migration_events_position",
                table: "migration_events",
                column: "position",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_migration_events_unpositioned",
                table: "migration_events",
                column: "id",
                filter: "position IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE migration_event_head;");

            migrationBuilder.DropIndex(
                name: "ix_migration_events_migration_id_position",
                table: "migration_events");

            migrationBuilder.DropIndex(
                name: "ix_migration_events_position",
                table: "migration_events");

            migrationBuilder.DropIndex(
                name: "ix_migration_events_unpositioned",
                table: "migration_events");

            migrationBuilder.DropColumn(
                name: "position",
                table: "migration_events");

            migrationBuilder.CreateIndex(
                name: "ix_migration_events_migration_id_id",
                table: "migration_events",
                columns: new[] { "migration_id", "id" });
        }
    }
}
