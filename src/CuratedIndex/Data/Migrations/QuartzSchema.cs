using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations;

/// <summary>Runs a Quartz job store schema script kept as an embedded resource beside its migration (statements split on <c>--;;</c>).</summary>
internal static class QuartzSchema
{
    public static readonly string[] Tables =
    [
        "qrtz_job_status", "qrtz_misfire_history", "qrtz_execution_history", "qrtz_locks", "qrtz_scheduler_state",
        "qrtz_fired_triggers", "qrtz_paused_job_grps", "qrtz_paused_trigger_grps", "qrtz_calendars", "qrtz_blob_triggers",
        "qrtz_simprop_triggers", "qrtz_cron_triggers", "qrtz_simple_triggers", "qrtz_triggers", "qrtz_job_details",
    ];

    public static void Create(MigrationBuilder migrationBuilder, string resource)
    {
        using var stream = typeof(QuartzSchema).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded schema '{resource}' is missing");
        using var reader = new StreamReader(stream);
        foreach (var piece in reader.ReadToEnd().ReplaceLineEndings("\n").Split("\n--;;\n"))
        {
            // Comment lines (the header, each statement's title) are dropped; a piece that is only comments has nothing to run.
            var statement = string.Join('\n', piece.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim();
            if (statement.Length > 0)
            {
                migrationBuilder.Sql(statement);
            }
        }
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        foreach (var table in Tables)
        {
            migrationBuilder.Sql($"DROP TABLE IF EXISTS {table}");
        }
    }
}
