using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261122000005_Typosquat")]
public sealed class Typosquat : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "typosquat_findings",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                imitated = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                score = table.Column<double>(type: "REAL", nullable: false),
                kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                reasons = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                first_seen_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_typosquat_findings", x => x.id));
        migrationBuilder.CreateIndex("ix_typosquat_findings_project_imitated", "typosquat_findings", ["project", "imitated"], unique: true);

        migrationBuilder.AddColumn<string>("severity", "incidents", type: "TEXT", maxLength: 16, nullable: false, defaultValue: "normal");
        migrationBuilder.CreateIndex("ix_incidents_kind_project", "incidents", ["kind", "project"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex("ix_incidents_kind_project", "incidents");
        migrationBuilder.DropColumn("severity", "incidents");
        migrationBuilder.DropTable("typosquat_findings");
    }
}
