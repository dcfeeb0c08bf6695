using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace CuratedIndex.Data.Migrations.Postgres;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(PostgresCuratedIndexDbContext))]
[Migration("20261204000002_Hardening")]
public sealed class Hardening : Migration
{
    private const string Identity = "Npgsql:ValueGenerationStrategy";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // Each decision names its audit record; rows written before are matched to theirs (HardeningSql.BackfillDecisions).
        migrationBuilder.AddColumn<long>("audit_record_id", "project_decisions", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<string>("audit_hash", "project_decisions", type: "character varying(64)", maxLength: 64, nullable: true);
        // The table is append-only; the backfill is the one sanctioned update, with the trigger lifted for it alone.
        migrationBuilder.Sql("ALTER TABLE project_decisions DISABLE TRIGGER project_decisions_append_only;");
        migrationBuilder.Sql(CuratedIndex.Data.Migrations.Sqlite.HardeningSql.BackfillDecisions);
        migrationBuilder.Sql("ALTER TABLE project_decisions ENABLE TRIGGER project_decisions_append_only;");
        migrationBuilder.CreateIndex("ix_project_decisions_audit_record_id", "project_decisions", "audit_record_id", unique: true);

        migrationBuilder.CreateTable(
            name: "audit_checkpoints",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                record_id = table.Column<long>(type: "bigint", nullable: false),
                record_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                verified_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_audit_checkpoints", x => x.id));
        migrationBuilder.CreateIndex("ix_audit_checkpoints_record_id", "audit_checkpoints", "record_id");

        migrationBuilder.CreateTable(
            name: "demand_marks",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                environment = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                caller = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                window_start = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_demand_marks", x => x.id));
        migrationBuilder.CreateIndex("ix_demand_marks_project_environment_caller_window", "demand_marks", ["project", "environment", "caller", "window_start"], unique: true);
        migrationBuilder.CreateIndex("ix_demand_marks_window_start", "demand_marks", "window_start");

        // UI sessions ended by signing out: a cookie naming one is refused.
        migrationBuilder.CreateTable(
            name: "ended_sessions",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                session_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                user_id = table.Column<long>(type: "bigint", nullable: false),
                ended_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_ended_sessions", x => x.id));
        migrationBuilder.CreateIndex("ix_ended_sessions_session_id", "ended_sessions", "session_id", unique: true);
        migrationBuilder.CreateIndex("ix_ended_sessions_expires_at", "ended_sessions", "expires_at");

        // Unique per stored object, not per filename: a file whose bytes changed upstream is a second object.
        migrationBuilder.DropIndex("ix_stored_artifacts_filename", "stored_artifacts");
        migrationBuilder.CreateIndex("ix_stored_artifacts_filename", "stored_artifacts", "filename");
        migrationBuilder.CreateIndex("ix_stored_artifacts_storage_key", "stored_artifacts", "storage_key", unique: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex("ix_stored_artifacts_storage_key", "stored_artifacts");
        migrationBuilder.DropIndex("ix_stored_artifacts_filename", "stored_artifacts");
        migrationBuilder.CreateIndex("ix_stored_artifacts_filename", "stored_artifacts", "filename", unique: true);
        migrationBuilder.DropTable("ended_sessions");
        migrationBuilder.DropTable("demand_marks");
        migrationBuilder.DropTable("audit_checkpoints");
        migrationBuilder.DropIndex("ix_project_decisions_audit_record_id", "project_decisions");
        migrationBuilder.DropColumn("audit_hash", "project_decisions");
        migrationBuilder.DropColumn("audit_record_id", "project_decisions");
    }
}
