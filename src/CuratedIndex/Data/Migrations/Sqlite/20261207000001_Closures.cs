using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261207000001_Closures")]
public sealed class Closures : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // Core metadata per distribution file (by sha256): read once from verified bytes, never stale.
        migrationBuilder.CreateTable(
            name: "core_metadata",
            columns: table => new
            {
                sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                filename = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                requires_dist = table.Column<string?>(type: "TEXT", nullable: true),
                requires_python = table.Column<string?>(type: "TEXT", maxLength: 1024, nullable: true),
                problem = table.Column<string?>(type: "TEXT", maxLength: 2000, nullable: true),
                read_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_core_metadata", x => x.sha256));

        // Computed dependency closures, for lists (the review queue) and other nodes.
        migrationBuilder.CreateTable(
            name: "dependency_closures",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                project = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                requested_version = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                document = table.Column<string>(type: "TEXT", nullable: false),
                computed_at = table.Column<DateTime>(type: "TEXT", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_dependency_closures", x => x.id));

        migrationBuilder.CreateIndex("ix_dependency_closures_key", "dependency_closures", "key", unique: true);
        migrationBuilder.CreateIndex("ix_dependency_closures_project", "dependency_closures", "project");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("dependency_closures");
        migrationBuilder.DropTable("core_metadata");
    }
}
