using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace CuratedIndex.Data.Migrations.Postgres;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(PostgresCuratedIndexDbContext))]
[Migration("20261208000001_DataProtectionKeys")]
public sealed class DataProtectionKeys : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // The data-protection key ring: a sign-in or a form made by one node (or before a restart) is read by any other.
        migrationBuilder.CreateTable(
            name: "data_protection_keys",
            columns: table => new
            {
                id = table.Column<int>(type: "integer", nullable: false).Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                friendly_name = table.Column<string?>(type: "text", nullable: true),
                xml = table.Column<string?>(type: "text", nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_data_protection_keys", x => x.id));
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("data_protection_keys");
}
