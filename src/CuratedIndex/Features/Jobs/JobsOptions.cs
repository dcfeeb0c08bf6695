namespace CuratedIndex.Features.Jobs;

/// <summary>
/// <c>Jobs</c>: the scheduler as a whole. Each job's own keys sit under <c>Jobs:{key}</c>, e.g. <c>Jobs:Scrub:Schedule</c>
/// (see <see cref="JobSchedule"/> for the forms a schedule takes).
/// </summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Run the scheduler in this process. Off for one-shot CLI verbs and most tests; the jobs page still lists the jobs.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>This node's id in a PostgreSQL cluster; every node needs its own. Generated when unset.</summary>
    public string? InstanceId { get; set; }

    /// <summary>How often a clustered node checks in; a node silent for longer has its jobs recovered by another.</summary>
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The least time between two progress writes of one run (the last one is always written).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(2);
}
