using CuratedIndex.Data;
using Quartz;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// Quartz on the app's own database: SQLite on one machine, PostgreSQL clustered across nodes (the <c>qrtz_*</c> tables come
/// from the 20261122000003_Jobs migration). Jobs are declared with <see cref="JobCatalogRegistration.AddCuratedIndexJob{TJob}"/>.
/// </summary>
public static class JobsRegistration
{
    public static void AddCuratedIndexJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<JobCatalog>();
        builder.Services.AddSingleton<JobRunRecorder>();
        builder.Services.AddSingleton<IJobProgress>(sp => sp.GetRequiredService<JobRunRecorder>());
        var jobs = builder.Configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        if (!jobs.Enabled)
        {
            return;
        }

        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = DataRegistration.ConnectionString(builder, database.Provider);
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "curated-index";
                if (jobs.InstanceId is { Length: > 0 } id)
                {
                    s.InstanceId = id;
                }
            });
            q.AddJobListener(sp => new JobRunListener(sp.GetRequiredService<JobRunRecorder>(), sp.GetRequiredService<ILogger<JobRunListener>>()));
            q.UsePersistentStore(store =>
            {
                store.ConfigureStore(o => o.TablePrefix = "qrtz_");
                store.UseSystemTextJsonSerializer();
                switch (database.Provider)
                {
                    case DatabaseProvider.Postgres:
                        store.UsePostgres(connectionString);
                        store.UseClustering(c => c.CheckinInterval = jobs.ClusterCheckinInterval);
                        break;
                    default:
                        store.UseSqlite(connectionString);
                        break;
                }
            });
        });
        // Order matters: the schedules are reconciled with the store before the Quartz hosted service starts the scheduler.
        builder.Services.AddHostedService<JobScheduleSync>();
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
    }
}

/// <summary>
/// Makes the stored jobs and triggers agree with the catalog at startup. A trigger whose schedule is unchanged is kept as
/// it is (its next fire time survives restarts); a changed one is replaced; a job set to <c>manual</c> loses its trigger.
/// </summary>
internal sealed class JobScheduleSync(ISchedulerFactory factory, JobCatalog catalog, TimeProvider clock, ILogger<JobScheduleSync> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await factory.GetScheduler(cancellationToken);
        foreach (var job in catalog.Jobs)
        {
            var detail = JobBuilder.Create().OfType(job.JobType).WithIdentity(job.JobKey).WithDescription(job.Description).StoreDurably().Build();
            await scheduler.AddJob(detail, AddJobOptions.Replacing, cancellationToken);
            var existing = await scheduler.GetTrigger(job.TriggerKey, cancellationToken);
            if (job.Schedule.IsManual)
            {
                if (existing is not null)
                {
                    await scheduler.UnscheduleJob(job.TriggerKey, cancellationToken);
                }

                continue;
            }

            if (existing is not null && Matches(existing, job.Schedule))
            {
                continue;
            }

            var trigger = TriggerBuilder.Create().WithIdentity(job.TriggerKey).ForJob(job.JobKey);
            trigger = job.Schedule.Cron is { } cron
                ? trigger.WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc)).StartAt(clock.GetUtcNow())
                : trigger.WithSimpleSchedule(s => s.WithInterval(job.Schedule.Interval!.Value).RepeatForever()).StartAt(clock.GetUtcNow() + job.Schedule.Interval!.Value);
            await scheduler.ScheduleTrigger(trigger.Build(), TriggerConflict.Replace, cancellationToken);
            JobsLog.Scheduled(logger, job.Key, job.Schedule.ToString());
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool Matches(ITrigger trigger, JobSchedule schedule) => trigger switch
    {
        ICronTrigger cron => schedule.Cron == cron.CronExpressionString,
        ISimpleTrigger simple => schedule.Interval == simple.RepeatInterval,
        _ => false,
    };
}
