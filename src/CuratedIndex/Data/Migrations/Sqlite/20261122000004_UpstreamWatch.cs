using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261122000004_UpstreamWatch")]
public sealed class UpstreamWatch : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "watched_projects",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                last_serial = table.Column<long?>(type: "INTEGER", nullable: true),
                etag = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                checked_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_watched_projects", x => x.id));
        migrationBuilder.CreateTable(
            name: "upstream_files",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                filename = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                version = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                upload_time = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                first_seen_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                removed_at = table.Column<DateTime?>(type: "TEXT", nullable: true),
                yanked = table.Column<bool>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_upstream_files", x => x.id));

        migrationBuilder.CreateIndex("ix_watched_projects_project", "watched_projects", "project", unique: true);
        migrationBuilder.CreateIndex("ix_upstream_files_project_filename", "upstream_files", ["project", "filename"], unique: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("upstream_files");
        migrationBuilder.DropTable("watched_projects");
    }
}
