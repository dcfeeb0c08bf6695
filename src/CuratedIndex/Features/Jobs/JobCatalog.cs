namespace CuratedIndex.Features.Jobs;

/// <summary>A background job as declared by its feature; <see cref="JobCatalog"/> adds the configured schedule.</summary>
public sealed record JobDefinition(string Key, Type JobType, string Description, string DefaultSchedule);

/// <summary>A declared job with its effective schedule.</summary>
public sealed record CatalogedJob(string Key, Type JobType, string Description, JobSchedule Schedule);

/// <summary>A <c>Jobs:{key}:Schedule</c> this build cannot use; the message is one line naming the key and the fix.</summary>
public sealed class JobScheduleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Every job of this build, each with the schedule from <c>Jobs:{key}:Schedule</c> or its default.</summary>
public sealed class JobCatalog
{
    private readonly Dictionary<string, CatalogedJob> _jobs;

    public JobCatalog(IEnumerable<JobDefinition> definitions, IConfiguration configuration)
    {
        _jobs = new Dictionary<string, CatalogedJob>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in definitions)
        {
            var key = $"{JobsOptions.Section}:{definition.Key}:Schedule";
            JobSchedule schedule;
            try
            {
                schedule = JobSchedule.Parse(configuration[key] ?? definition.DefaultSchedule);
            }
            catch (FormatException e)
            {
                throw new JobScheduleException($"{key}: {e.Message}", e);
            }

            if (!_jobs.TryAdd(definition.Key, new CatalogedJob(definition.Key, definition.JobType, definition.Description, schedule)))
            {
                throw new InvalidOperationException($"job '{definition.Key}' is declared twice");
            }
        }
    }

    public IReadOnlyList<CatalogedJob> Jobs => [.. _jobs.Values.OrderBy(j => j.Key, StringComparer.Ordinal)];

    public CatalogedJob? Find(string key) => _jobs.GetValueOrDefault(key);
}

/// <summary>A recurring job of the catalog. An instance is resolved from a DI scope of its own for every run.</summary>
public interface IScheduledJob
{
    /// <summary>
    /// One run. Hangfire runs a job at least once (a run cut short by a shutdown runs again), so a run must be idempotent;
    /// long runs report through <see cref="IJobProgress"/> and say how they ended with <see cref="JobRunRecorder.SetResult"/>.
    /// </summary>
    Task RunAsync(JobRunContext context, CancellationToken cancellationToken);
}

public static class JobCatalogRegistration
{
    /// <summary>
    /// Declares a recurring job under <paramref name="key"/>, run on <c>Jobs:{key}:Schedule</c> or <paramref name="defaultSchedule"/>
    /// (see <see cref="JobSchedule"/>); never two runs of one key at once across the cluster. Every run is recorded in
    /// <c>job_runs</c> and shown on <c>/ui/jobs</c>.
    /// </summary>
    public static IServiceCollection AddCuratedIndexJob<TJob>(this IServiceCollection services, string key, string description, string defaultSchedule)
        where TJob : class, IScheduledJob
    {
        services.AddSingleton(new JobDefinition(key, typeof(TJob), description, defaultSchedule));
        services.AddScoped<TJob>();
        return services;
    }
}
