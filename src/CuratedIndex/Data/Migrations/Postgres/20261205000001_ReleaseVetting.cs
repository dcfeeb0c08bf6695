using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace CuratedIndex.Data.Migrations.Postgres;

// Written by hand: the EF design-time package does not restore here (PACKAGES.md).
[DbContext(typeof(PostgresCuratedIndexDbContext))]
[Migration("20261205000001_ReleaseVetting")]
public sealed class ReleaseVetting : Migration
{
    private const string Identity = "Npgsql:ValueGenerationStrategy";

    // Release decisions and the files they pin are the tier 3 record: append-only, like project decisions.
    private static readonly string[] AppendOnlyTables = ["release_decisions", "vetted_files"];

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // PEP 700 size of each file the watch records: the size-changed signal compares releases by it.
        migrationBuilder.AddColumn<long?>("size", "upstream_files", type: "bigint", nullable: true);

        migrationBuilder.CreateTable(
            name: "release_decisions",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                verdict = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                criteria = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                how = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                break_glass = table.Column<bool>(type: "boolean", nullable: false),
                source = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                released_at = table.Column<DateTime?>(type: "timestamp with time zone", nullable: true),
                decided_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                audit_record_id = table.Column<long?>(type: "bigint", nullable: true),
                audit_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_release_decisions", x => x.id));

        migrationBuilder.CreateTable(
            name: "vetted_files",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                release_decision_id = table.Column<long>(type: "bigint", nullable: false),
                filename = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                size = table.Column<long>(type: "bigint", nullable: false),
                metadata_sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_vetted_files", x => x.id);
                table.ForeignKey("fk_vetted_files_release_decisions", x => x.release_decision_id, "release_decisions", "id", onDelete: ReferentialAction.Restrict);
            });

        migrationBuilder.CreateTable(
            name: "seen_releases",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                first_seen_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                uploaded_at = table.Column<DateTime?>(type: "timestamp with time zone", nullable: true),
                roster = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_seen_releases", x => x.id));

        migrationBuilder.CreateTable(
            name: "release_signals",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                kind = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                evidence = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                detected_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_release_signals", x => x.id));

        migrationBuilder.CreateTable(
            name: "release_requests",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false).Annotation(Identity, NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                project = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                environment = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                first_requested_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                last_requested_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                request_count = table.Column<long>(type: "bigint", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_release_requests", x => x.id));

        migrationBuilder.CreateIndex("ix_release_decisions_project_version", "release_decisions", ["project", "version"]);
        migrationBuilder.CreateIndex("ix_release_decisions_audit_record_id", "release_decisions", "audit_record_id", unique: true);
        migrationBuilder.CreateIndex("ix_vetted_files_decision_filename", "vetted_files", ["release_decision_id", "filename"], unique: true);
        migrationBuilder.CreateIndex("ix_seen_releases_project_version", "seen_releases", ["project", "version"], unique: true);
        migrationBuilder.CreateIndex("ix_release_signals_project_version_kind", "release_signals", ["project", "version", "kind"], unique: true);
        migrationBuilder.CreateIndex("ix_release_requests_project_version_environment", "release_requests", ["project", "version", "environment"], unique: true);

        foreach (var table in AppendOnlyTables)
        {
            migrationBuilder.Sql($"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION curated_index_refuse_change();");
        }
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropColumn("size", "upstream_files");
        migrationBuilder.DropTable("release_requests");
        migrationBuilder.DropTable("release_signals");
        migrationBuilder.DropTable("seen_releases");
        migrationBuilder.DropTable("vetted_files");
        migrationBuilder.DropTable("release_decisions");
    }
}
