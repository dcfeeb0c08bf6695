using Microsoft.EntityFrameworkCore.Migrations;

namespace CuratedIndex.Data.Migrations;

/// <summary>
/// The tables of the job store background jobs used before Hangfire (created by 20261122000003_Jobs on databases of
/// that time). Hangfire keeps its state in its own storage (a file of its own on SQLite, the <c>hangfire</c> schema on
/// PostgreSQL), so these are dropped; children before parents, since PostgreSQL has their foreign keys.
/// </summary>
internal static class RetiredJobStore
{
    public static readonly string[] Tables =
    [
        "qrtz_job_status", "qrtz_misfire_history", "qrtz_execution_history", "qrtz_locks", "qrtz_scheduler_state",
        "qrtz_fired_triggers", "qrtz_paused_job_grps", "qrtz_paused_trigger_grps", "qrtz_calendars", "qrtz_blob_triggers",
        "qrtz_simprop_triggers", "qrtz_cron_triggers", "qrtz_simple_triggers", "qrtz_triggers", "qrtz_job_details",
    ];

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        foreach (var table in Tables)
        {
            migrationBuilder.Sql($"DROP TABLE IF EXISTS {table}");
        }
    }
}
