namespace CuratedIndex.Features.Jobs;

/// <summary>
/// <c>Jobs</c>: background work as a whole. Each job's own keys sit under <c>Jobs:{key}</c>, e.g. <c>Jobs:Scrub:Schedule</c>
/// (see <see cref="JobSchedule"/> for the forms a schedule takes).
/// </summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>
    /// Run a Hangfire server (workers and the recurring-job scheduler) in this process. Off for one-shot CLI verbs and
    /// most tests; the jobs page still lists the jobs, and work enqueued here waits in the storage for a server.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Workers of this node's server. Small by default: SQLite storage has a history of lock timeouts and double pickup
    /// with many workers (PACKAGES.md); on PostgreSQL every node adds its own workers.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int WorkerCount { get; set; } = 2;

    /// <summary>How often an idle worker looks for new work in the storage (and the scheduler for due recurring jobs).</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PostgreSQL: how long a job fetched by a node that stopped answering stays invisible before another node's worker
    /// takes it (Hangfire's invisibility timeout, sliding: a live node keeps extending it however long its job runs).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The least time between two progress writes of one run (the last one is always written).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(2);
}
