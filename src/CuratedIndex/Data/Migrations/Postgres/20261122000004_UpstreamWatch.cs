using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace CuratedIndex.Data.Migrations.Postgres;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(PostgresCuratedIndexDbContext))]
[Migration("20261122000004_UpstreamWatch")]
public sealed class UpstreamWatch : Migration
{
    private const string Identity = "Npgsql:ValueGenerationStrategy";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "watched_projects",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                last_serial = table.Column<long?>(type: "bigint", nullable: true),
                etag = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                checked_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_watched_projects", x => x.id));
        migrationBuilder.CreateTable(
            name: "upstream_files",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                filename = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                upload_time = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                first_seen_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                removed_at = table.Column<DateTime?>(type: "timestamp with time zone", nullable: true),
                yanked = table.Column<bool>(type: "boolean", nullable: false),
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
