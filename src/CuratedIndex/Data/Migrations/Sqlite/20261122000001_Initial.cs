using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261122000001_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "cached_pages",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                key = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                content_type = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                source_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                body = table.Column<byte[]>(type: "BLOB", nullable: false),
                etag = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                last_modified = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                last_serial = table.Column<long>(type: "INTEGER", nullable: true),
                fetched_at = table.Column<string>(type: "TEXT", nullable: false),
                validated_at = table.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_cached_pages", x => x.id));
        migrationBuilder.CreateIndex("ix_cached_pages_kind_key", "cached_pages", ["kind", "key"], unique: true);

        migrationBuilder.CreateTable(
            name: "stored_artifacts",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                filename = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                size = table.Column<long>(type: "INTEGER", nullable: false),
                storage_key = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                stored_at = table.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_stored_artifacts", x => x.id));
        migrationBuilder.CreateIndex("ix_stored_artifacts_filename", "stored_artifacts", "filename", unique: true);
        migrationBuilder.CreateIndex("ix_stored_artifacts_project", "stored_artifacts", "project");

        migrationBuilder.CreateTable(
            name: "incidents",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                kind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                filename = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                detail = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                occurred_at = table.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_incidents", x => x.id));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("incidents");
        migrationBuilder.DropTable("stored_artifacts");
        migrationBuilder.DropTable("cached_pages");
    }
}
