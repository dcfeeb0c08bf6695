using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261122000002_Review")]
public sealed class Review : Migration
{
    // Decisions and audit records are only ever added; the database refuses to change or delete them.
    private static readonly string[] AppendOnlyTables = ["project_decisions", "audit_records"];

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "review_requests",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                first_requested_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                last_requested_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                request_count = table.Column<long>(type: "INTEGER", nullable: false),
                status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                risk_score = table.Column<double>(type: "REAL", nullable: false),
                decided_at = table.Column<DateTime?>(type: "TEXT", nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_review_requests", x => x.id));
        migrationBuilder.CreateTable(
            name: "review_requesters",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                review_request_id = table.Column<long>(type: "INTEGER", nullable: false),
                environment = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                requester = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                request_count = table.Column<long>(type: "INTEGER", nullable: false),
                first_requested_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                last_requested_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_review_requesters", x => x.id);
                table.ForeignKey("fk_review_requesters_review_requests", x => x.review_request_id, "review_requests", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateTable(
            name: "project_decisions",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                verdict = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                reason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                actor = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                decided_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_project_decisions", x => x.id));
        migrationBuilder.CreateTable(
            name: "users",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                user_name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                password_hash = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                role = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                disabled = table.Column<bool>(type: "INTEGER", nullable: false),
                created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                security_stamp = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_users", x => x.id));
        migrationBuilder.CreateTable(
            name: "api_tokens",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                user_id = table.Column<long>(type: "INTEGER", nullable: false),
                name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                token_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                last_used_at = table.Column<DateTime?>(type: "TEXT", nullable: true),
                revoked_at = table.Column<DateTime?>(type: "TEXT", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_api_tokens", x => x.id);
                table.ForeignKey("fk_api_tokens_users", x => x.user_id, "users", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateTable(
            name: "audit_records",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false),
                occurred_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                actor = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                subject = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                reason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                previous_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_audit_records", x => x.id));
        migrationBuilder.CreateTable(
            name: "daily_request_counts",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                environment = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                count = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_daily_request_counts", x => x.id));

        migrationBuilder.CreateIndex("ix_review_requests_project", "review_requests", "project", unique: true);
        migrationBuilder.CreateIndex("ix_review_requests_status", "review_requests", "status");
        migrationBuilder.CreateIndex("ix_review_requesters_request_environment_requester", "review_requesters", ["review_request_id", "environment", "requester"], unique: true);
        migrationBuilder.CreateIndex("ix_project_decisions_project", "project_decisions", "project");
        migrationBuilder.CreateIndex("ix_users_user_name", "users", "user_name", unique: true);
        migrationBuilder.CreateIndex("ix_api_tokens_token_hash", "api_tokens", "token_hash", unique: true);
        migrationBuilder.CreateIndex("ix_api_tokens_user_id", "api_tokens", "user_id");
        migrationBuilder.CreateIndex("ix_audit_records_previous_hash", "audit_records", "previous_hash", unique: true);
        migrationBuilder.CreateIndex("ix_daily_request_counts_day_environment_outcome", "daily_request_counts", ["day", "environment", "outcome"], unique: true);

        foreach (var table in AppendOnlyTables)
        {
            migrationBuilder.Sql($"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;");
            migrationBuilder.Sql($"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;");
        }
    }

    private static string DropAppendOnlyTriggers(string table) =>
        $"DROP TRIGGER IF EXISTS {table}_no_update; DROP TRIGGER IF EXISTS {table}_no_delete;";

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in AppendOnlyTables)
        {
            migrationBuilder.Sql(DropAppendOnlyTriggers(table));
        }

        migrationBuilder.DropTable("daily_request_counts");
        migrationBuilder.DropTable("audit_records");
        migrationBuilder.DropTable("api_tokens");
        migrationBuilder.DropTable("users");
        migrationBuilder.DropTable("project_decisions");
        migrationBuilder.DropTable("review_requesters");
        migrationBuilder.DropTable("review_requests");
    }
}
