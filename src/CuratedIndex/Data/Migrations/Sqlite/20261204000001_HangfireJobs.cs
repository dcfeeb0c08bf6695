using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations.Sqlite;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(SqliteCuratedIndexDbContext))]
[Migration("20261204000001_HangfireJobs")]
public sealed class HangfireJobs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) => RetiredJobStore.Drop(migrationBuilder);

    // The old job store's tables are not brought back: nothing reads them any more.
    protected override void Down(MigrationBuilder migrationBuilder)
    {
    }
}
