using Quartz;

namespace CuratedIndex.Features.Jobs;

/// <summary>A background job as declared by its feature; <see cref="JobCatalog"/> adds the configured schedule.</summary>
public sealed record JobDefinition(string Key, Type JobType, string Description, string DefaultSchedule);

/// <summary>A declared job with its effective schedule.</summary>
public sealed record CatalogedJob(string Key, Type JobType, string Description, JobSchedule Schedule)
{
    public JobKey JobKey => new(Key, JobCatalog.Group);

    public TriggerKey TriggerKey => new($"{Key}-schedule", JobCatalog.Group);
}

/// <summary>Every job of this build, each with the schedule from <c>Jobs:{key}:Schedule</c> or its default.</summary>
public sealed class JobCatalog
{
    public const string Group = "curated-index";

    private readonly Dictionary<string, CatalogedJob> _jobs;

    public JobCatalog(IEnumerable<JobDefinition> definitions, IConfiguration configuration)
    {
        _jobs = new Dictionary<string, CatalogedJob>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in definitions)
        {
            var text = configuration[$"{JobsOptions.Section}:{definition.Key}:Schedule"] ?? definition.DefaultSchedule;
            JobSchedule schedule;
            try
            {
                schedule = JobSchedule.Parse(text);
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"{JobsOptions.Section}:{definition.Key}:Schedule: {e.Message}", e);
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

public static class JobCatalogRegistration
{
    /// <summary>
    /// Declares a background job: a Quartz <see cref="IJob"/> (mark it <see cref="DisallowConcurrentExecutionAttribute"/>; it gets a
    /// DI scope per run) under <paramref name="key"/>, run on <c>Jobs:{key}:Schedule</c> or <paramref name="defaultSchedule"/>
    /// (see <see cref="JobSchedule"/>). Every run is recorded in <c>job_runs</c> and shown on <c>/ui/jobs</c>; long jobs report
    /// progress through <see cref="IJobProgress"/>.
    /// </summary>
    public static IServiceCollection AddCuratedIndexJob<TJob>(this IServiceCollection services, string key, string description, string defaultSchedule)
        where TJob : class, IJob
    {
        services.AddSingleton(new JobDefinition(key, typeof(TJob), description, defaultSchedule));
        services.AddScoped<TJob>();
        return services;
    }
}
