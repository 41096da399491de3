using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ferry.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "hosts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    migration_address = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    agent_endpoint = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    capabilities = table.Column<string>(type: "jsonb", nullable: false),
                    last_heartbeat_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_hosts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "idempotency_keys",
                columns: table => new
                {
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: false),
                    response_body = table.Column<string>(type: "text", nullable: false),
                    location = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_idempotency_keys", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "migrations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    guest_id = table.Column<Guid>(type: "uuid", nullable: false),
                    guest_name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    source_host_id = table.Column<Guid>(type: "uuid", nullable: false),
                    source_host_name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    target_host_id = table.Column<Guid>(type: "uuid", nullable: true),
                    target_host_name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true),
                    target_endpoint = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    target_requested = table.Column<bool>(type: "boolean", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    result = table.Column<string>(type: "jsonb", nullable: true),
                    sla_met = table.Column<bool>(type: "boolean", nullable: true),
                    failure_reason = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    abort_reason = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    guest_on_target = table.Column<bool>(type: "boolean", nullable: false),
                    last_progress_sequence = table.Column<long>(type: "bigint", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false),
                    timeline = table.Column<string>(type: "jsonb", nullable: false),
                    policy_allow_auto_converge = table.Column<bool>(type: "boolean", nullable: false),
                    policy_bandwidth_mbps = table.Column<int>(type: "integer", nullable: true),
                    policy_completion_timeout_seconds_per_gib = table.Column<int>(type: "integer", nullable: false),
                    policy_max_downtime_ms = table.Column<double>(type: "double precision", nullable: false),
                    policy_max_total_time_ms = table.Column<double>(type: "double precision", nullable: false),
                    policy_parallel_streams = table.Column<int>(type: "integer", nullable: false),
                    policy_priority = table.Column<int>(type: "integer", nullable: false),
                    policy_progress_timeout_seconds = table.Column<int>(type: "integer", nullable: false),
                    policy_transport = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_migrations", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "guests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    memory_mi_b = table.Column<int>(type: "integer", nullable: false),
                    vcpus = table.Column<int>(type: "integer", nullable: false),
                    hugepage_size_ki_b = table.Column<long>(type: "bigint", nullable: true),
                    profile = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    host_id = table.Column<Guid>(type: "uuid", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    state_before_migration = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    vhost_user_ports = table.Column<List<string>>(type: "text[]", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_guests", x => x.id);
                    table.ForeignKey(
                        name: "fk_guests_hosts_host_id",
                        column: x => x.host_id,
                        principalTable: "hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

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
                name: "ix_guests_host_id",
                table: "guests",
                column: "host_id");

            migrationBuilder.CreateIndex(
                name: "ix_guests_name",
                table: "guests",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_hosts_name",
                table: "hosts",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_hosts_state",
                table: "hosts",
                column: "state");

            migrationBuilder.CreateIndex(
                name: "ix_idempotency_keys_created_at",
                table: "idempotency_keys",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_migration_leases_owner",
                table: "migration_leases",
                column: "owner");

            migrationBuilder.CreateIndex(
                name: "ix_migrations_created_at",
                table: "migrations",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_migrations_guest_id_created_at",
                table: "migrations",
                columns: new[] { "guest_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_migrations_one_active_per_guest",
                table: "migrations",
                column: "guest_id",
                unique: true,
                filter: "state IN ('Queued', 'Scheduled', 'PreparingTarget', 'TargetReady', 'Running', 'SwitchingOver', 'CleaningUp', 'Cancelling')");

            migrationBuilder.CreateIndex(
                name: "ix_migrations_source_host_id_created_at",
                table: "migrations",
                columns: new[] { "source_host_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_migrations_state_created_at",
                table: "migrations",
                columns: new[] { "state", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_migrations_target_host_id_created_at",
                table: "migrations",
                columns: new[] { "target_host_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "guests");

            migrationBuilder.DropTable(
                name: "idempotency_keys");

            migrationBuilder.DropTable(
                name: "migration_leases");

            migrationBuilder.DropTable(
                name: "hosts");

            migrationBuilder.DropTable(
                name: "migrations");
        }
    }
}
