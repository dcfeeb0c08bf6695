using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261208000001_ScaleOut")]
public sealed class ScaleOut : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // The data-protection key ring: a sign-in or a form made by one node (or before a restart) is read by any other.
        migrationBuilder.CreateTable(
            name: "data_protection_keys",
            columns: table => new
            {
                id = table.Column<int>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                friendly_name = table.Column<string?>(type: "TEXT", nullable: true),
                xml = table.Column<string?>(type: "TEXT", nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_data_protection_keys", x => x.id));

        // Sign-in attempts of the last minute per client address, counted by every node (Auth:SignInAttemptsPerMinute).
        migrationBuilder.CreateTable(
            name: "sign_in_attempts",
            columns: table => new
            {
                id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                bucket = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                at_ms = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_sign_in_attempts", x => x.id));
        migrationBuilder.CreateIndex("ix_sign_in_attempts_bucket_at_ms", "sign_in_attempts", ["bucket", "at_ms"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("sign_in_attempts");
        migrationBuilder.DropTable("data_protection_keys");
    }
}
