using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace CuratedIndex.Data.Migrations.Postgres;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(PostgresCuratedIndexDbContext))]
[Migration("20261206000001_Provenance")]
public sealed class Provenance : Migration
{
    private const string Identity = "Npgsql:ValueGenerationStrategy";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // What was fetched and verified for each file: tier 3 serves the verified copy, automatic vetting reads the result.
        migrationBuilder.CreateTable(
            name: "file_provenance",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "text", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "text", maxLength: 128, nullable: false),
                filename = table.Column<string>(type: "text", maxLength: 255, nullable: false),
                sha256 = table.Column<string>(type: "text", maxLength: 64, nullable: false),
                state = table.Column<string>(type: "text", maxLength: 16, nullable: false),
                publishers = table.Column<string?>(type: "text", maxLength: 4000, nullable: true),
                evidence = table.Column<string?>(type: "text", nullable: true),
                failure = table.Column<string?>(type: "text", maxLength: 2000, nullable: true),
                document = table.Column<byte[]?>(type: "bytea", nullable: true),
                trusted_root = table.Column<string?>(type: "text", maxLength: 64, nullable: true),
                checked_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_file_provenance", x => x.id));

        // Vetted publishers decided by reviewers: append-only and audited, like every decision.
        migrationBuilder.CreateTable(
            name: "publisher_decisions",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "text", maxLength: 200, nullable: false),
                publisher = table.Column<string>(type: "text", maxLength: 500, nullable: false),
                valid_from = table.Column<DateOnly?>(type: "date", nullable: true),
                valid_until = table.Column<DateOnly?>(type: "date", nullable: true),
                action = table.Column<string>(type: "text", maxLength: 16, nullable: false),
                actor = table.Column<string>(type: "text", maxLength: 128, nullable: false),
                reason = table.Column<string>(type: "text", maxLength: 2000, nullable: false),
                decided_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                audit_record_id = table.Column<long?>(type: "bigint", nullable: true),
                audit_hash = table.Column<string?>(type: "text", maxLength: 64, nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_publisher_decisions", x => x.id));

        migrationBuilder.CreateIndex("ix_file_provenance_project_filename_sha256", "file_provenance", ["project", "filename", "sha256"], unique: true);
        migrationBuilder.CreateIndex("ix_file_provenance_project_version", "file_provenance", ["project", "version"]);
        migrationBuilder.CreateIndex("ix_publisher_decisions_project_publisher", "publisher_decisions", ["project", "publisher"]);
        migrationBuilder.CreateIndex("ix_publisher_decisions_audit_record_id", "publisher_decisions", "audit_record_id", unique: true);
        migrationBuilder.Sql("CREATE TRIGGER publisher_decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON publisher_decisions FOR EACH STATEMENT EXECUTE FUNCTION curated_index_refuse_change();");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("publisher_decisions");
        migrationBuilder.DropTable("file_provenance");
    }
}
