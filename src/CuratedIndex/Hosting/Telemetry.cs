using System.Diagnostics;
using CuratedIndex.Storage;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;

namespace CuratedIndex.Hosting;

/// <summary>
/// Metrics, traces and health in one place. The meters (<see cref="CuratedIndexMetrics"/>, <see cref="DirectSendMetrics"/>)
/// always count, which costs a few instructions per request while nothing listens. OpenTelemetry's SDK, its
/// instrumentation and the OTLP exporter are registered only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (an
/// environment variable, or the same key in any configuration source); the standard <c>OTEL_*</c> variables configure
/// the rest (protocol, headers, intervals, resource attributes).
/// </summary>
public static class Telemetry
{
    public const string ActivitySourceName = "CuratedIndex";
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";
    public const string DefaultServiceName = "curated-index";

    /// <summary>The spans of our own: the decision, upstream fetches and artifact store reads and writes.</summary>
    public static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>This node's <c>service.instance.id</c>, the same name its Hangfire server and <c>job_runs</c> rows carry.</summary>
    public static string InstanceId => $"{Environment.MachineName}/{Environment.ProcessId}";

    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<CuratedIndexMetrics>();
        services.AddSingleton<TelemetryQueues>();
        services.AddSingleton<TelemetryHealth>();
        // Every download from upstream goes through YARP's forwarder: measured there, for every caller.
        Decorate<IHttpForwarder>(services, (sp, inner) => new TelemetryForwarder(inner, sp.GetRequiredService<CuratedIndexMetrics>()));

        var endpoint = builder.Configuration[EndpointVariable];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        // Store spans cost a wrapper per read, paid only when traces are exported.
        Decorate<IArtifactStore>(services, (_, inner) => new TelemetryArtifactStore(inner));
        var serviceName = builder.Configuration[ServiceNameVariable] is { Length: > 0 } name ? name : DefaultServiceName;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: InstanceId, autoGenerateServiceInstanceId: false))
            .WithMetrics(metrics => metrics
                .AddMeter(CuratedIndexMetrics.MeterName, DirectSendMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddOtlpExporter())
            .WithTracing(tracing => tracing
                .AddSource(ActivitySourceName)
                // Health probes come every few seconds from every load balancer: not worth a trace each.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        services.AddHostedService(sp => new TelemetryAnnouncement(sp.GetRequiredService<ILogger<TelemetryAnnouncement>>(), endpoint, serviceName));
    }

    /// <summary><c>/healthz</c> and <c>/readyz</c>; the queue gauges start observing (they exist once created).</summary>
    public static void MapTelemetry(this WebApplication app)
    {
        app.Services.GetRequiredService<TelemetryQueues>();
        TelemetryHealth.Map(app);
    }

    private static bool IsProbe(PathString path) => path.Equals("/healthz", StringComparison.Ordinal) || path.Equals("/readyz", StringComparison.Ordinal);

    // Replaces the registration of TService with a wrapper around the instance it made (same lifetime).
    private static void Decorate<TService>(IServiceCollection services, Func<IServiceProvider, TService, TService> wrap)
        where TService : class
    {
        var descriptor = services.LastOrDefault(d => d.ServiceType == typeof(TService))
            ?? throw new InvalidOperationException($"{typeof(TService).Name} must be registered before telemetry");
        services.Remove(descriptor);
        services.Add(ServiceDescriptor.Describe(typeof(TService), sp => wrap(sp, (TService)Create(sp, descriptor)), descriptor.Lifetime));
    }

    private static object Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);

    // The log says at start where telemetry goes (operators look there first when nothing arrives).
    private sealed class TelemetryAnnouncement(ILogger<TelemetryAnnouncement> logger, string endpoint, string service) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            HostingLog.TelemetryExported(logger, endpoint, service, InstanceId);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
