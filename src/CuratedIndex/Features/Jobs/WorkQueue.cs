using Hangfire;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// Durable work a feature hands to the background: <typeparamref name="TArgs"/> is stored (JSON) with the work's type,
/// survives restarts, and runs on any node's server. Hangfire runs it at least once, so work must be idempotent.
/// </summary>
public interface IQueuedWork<in TArgs>
{
    /// <summary>
    /// Does the work. An exception is retried later (Hangfire's retries: <see cref="QueuedWorkRunner{TWork, TArgs}.Attempts"/> attempts
    /// with growing delays); <see cref="WorkRefusedException"/> fails it at once. Work that fails for good shows on <c>/ui/jobs</c>.
    /// </summary>
    Task RunAsync(TArgs args, JobRunContext context, CancellationToken cancellationToken);
}

/// <summary>Thrown by work that can never succeed with its arguments (a retry would fail the same way): no retries.</summary>
public sealed class WorkRefusedException(string message) : Exception(message);

/// <summary>The seam through which features enqueue durable work.</summary>
public interface IWorkQueue
{
    /// <summary>Stores one run of <typeparamref name="TWork"/> with <paramref name="args"/>; returns its Hangfire job id.</summary>
    string Enqueue<TWork, TArgs>(TArgs args)
        where TWork : class, IQueuedWork<TArgs>;

    /// <summary>Stores one run of <typeparamref name="TWork"/> to start at <paramref name="at"/> (at once when that has passed).</summary>
    string Schedule<TWork, TArgs>(TArgs args, DateTimeOffset at)
        where TWork : class, IQueuedWork<TArgs>;
}

internal sealed class HangfireWorkQueue(IBackgroundJobClient client) : IWorkQueue
{
    public string Enqueue<TWork, TArgs>(TArgs args)
        where TWork : class, IQueuedWork<TArgs> =>
        client.Enqueue<QueuedWorkRunner<TWork, TArgs>>(r => r.RunAsync(args, null, CancellationToken.None));

    public string Schedule<TWork, TArgs>(TArgs args, DateTimeOffset at)
        where TWork : class, IQueuedWork<TArgs> =>
        client.Schedule<QueuedWorkRunner<TWork, TArgs>>(r => r.RunAsync(args, null, CancellationToken.None), at);
}

public static class WorkQueueRegistration
{
    /// <summary>Declares <typeparamref name="TWork"/> as work that can be enqueued through <see cref="IWorkQueue"/>; it gets a DI scope per run.</summary>
    public static IServiceCollection AddQueuedWork<TWork>(this IServiceCollection services)
        where TWork : class
    {
        services.AddScoped<TWork>();
        return services;
    }
}
