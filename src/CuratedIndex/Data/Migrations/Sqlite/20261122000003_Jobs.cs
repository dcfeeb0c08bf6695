using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261122000003_Jobs")]
public sealed class Jobs : Migration
{
    // This migration also created the tables of the job store of that time (qrtz_*). Background jobs now keep their
    // state in Hangfire's own storage, so a new database no longer gets them; 20261204000001_HangfireJobs drops them
    // from a database that has them.
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "job_runs",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                job_key = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                node = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                started_by = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                started_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                finished_at = table.Column<DateTime?>(type: "TEXT", nullable: true),
                progress = table.Column<double?>(type: "REAL", nullable: true),
                progress_text = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                message = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_job_runs", x => x.id));
        migrationBuilder.CreateIndex("ix_job_runs_job_key_id", "job_runs", ["job_key", "id"]);
        migrationBuilder.AddColumn<DateTime>("verified_at", "stored_artifacts", type: "TEXT", nullable: true);
        migrationBuilder.CreateIndex("ix_stored_artifacts_verified_at", "stored_artifacts", "verified_at");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex("ix_stored_artifacts_verified_at", "stored_artifacts");
        migrationBuilder.DropColumn("verified_at", "stored_artifacts");
        migrationBuilder.DropTable("job_runs");
    }
}
