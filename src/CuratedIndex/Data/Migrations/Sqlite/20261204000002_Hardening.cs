using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261204000002_Hardening")]
public sealed class Hardening : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // Each decision names its audit record; rows written before are matched to theirs (HardeningSql.BackfillDecisions).
        migrationBuilder.AddColumn<long>("audit_record_id", "project_decisions", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<string>("audit_hash", "project_decisions", type: "TEXT", maxLength: 64, nullable: true);
        // The table is append-only; the backfill is the one sanctioned update, with the trigger lifted for it alone.
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS project_decisions_no_update;");
        migrationBuilder.Sql(HardeningSql.BackfillDecisions);
        migrationBuilder.Sql("CREATE TRIGGER project_decisions_no_update BEFORE UPDATE ON project_decisions BEGIN SELECT RAISE(ABORT, 'project_decisions is append-only'); END;");
        migrationBuilder.CreateIndex("ix_project_decisions_audit_record_id", "project_decisions", "audit_record_id", unique: true);

        migrationBuilder.CreateTable(
            name: "audit_checkpoints",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                record_id = table.Column<long>(type: "INTEGER", nullable: false),
                record_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                verified_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_audit_checkpoints", x => x.id));
        migrationBuilder.CreateIndex("ix_audit_checkpoints_record_id", "audit_checkpoints", "record_id");

        migrationBuilder.CreateTable(
            name: "demand_marks",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                environment = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                caller = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                window_start = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_demand_marks", x => x.id));
        migrationBuilder.CreateIndex("ix_demand_marks_project_environment_caller_window", "demand_marks", ["project", "environment", "caller", "window_start"], unique: true);
        migrationBuilder.CreateIndex("ix_demand_marks_window_start", "demand_marks", "window_start");

        // UI sessions ended by signing out: a cookie naming one is refused.
        migrationBuilder.CreateTable(
            name: "ended_sessions",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                session_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                user_id = table.Column<long>(type: "INTEGER", nullable: false),
                ended_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                expires_at = table.Column<DateTime>(type: "TEXT", nullable: false),
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

/// <summary>SQL the two providers share for this migration.</summary>
internal static class HardeningSql
{
    /// <summary>
    /// Matches each existing decision with the audit record written in its transaction: same subject, action, actor and
    /// reason, the n-th decision of such a group with the n-th record (both were written in the same order). A decision
    /// left unmatched keeps null and is refused by the loader (fail closed: its project is hidden and an incident raised).
    /// </summary>
    public const string BackfillDecisions = """
        WITH d AS (
            SELECT id, 'project:' || project AS subject,
                CASE verdict WHEN 'approved' THEN 'project.approve' WHEN 'denied' THEN 'project.deny' ELSE 'project.defer' END AS action,
                actor, reason,
                ROW_NUMBER() OVER (PARTITION BY project, verdict, actor, reason ORDER BY id) AS n
            FROM project_decisions),
        a AS (
            SELECT id, hash, subject, action, actor, reason,
                ROW_NUMBER() OVER (PARTITION BY subject, action, actor, reason ORDER BY id) AS n
            FROM audit_records WHERE action IN ('project.approve', 'project.deny', 'project.defer')),
        matched AS (
            SELECT d.id AS decision_id, a.id AS audit_id, a.hash AS audit_hash
            FROM d JOIN a ON a.subject = d.subject AND a.action = d.action AND a.actor = d.actor AND a.reason = d.reason AND a.n = d.n)
        UPDATE project_decisions SET
            audit_record_id = (SELECT m.audit_id FROM matched m WHERE m.decision_id = project_decisions.id),
            audit_hash = (SELECT m.audit_hash FROM matched m WHERE m.decision_id = project_decisions.id);
        """;
}
