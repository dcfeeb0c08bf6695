using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Hosting;
using CuratedIndex.Tests.Features.Jobs;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceServers;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// The meter <c>CuratedIndex</c> moves with real traffic through the HTTP surface: a real <see cref="MeterListener"/>
/// on the proxy's own meter (each host has its own, so parallel tests do not mix), no exporter.
/// </summary>
public sealed class TelemetryMetricsTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private const string First = "first-2.0.2-py2.py3-none-any.whl";

    [Fact]
    public void PagePathRecording_AllocatesNothing_WhileNothingListens()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new CuratedIndexMetrics(services.GetRequiredService<IMeterFactory>());
        var path = new Microsoft.AspNetCore.Http.PathString("/dev/simple/six/");
        var visible = CuratedIndex.Features.Decisions.Decision.Allow("tier 1");
        RecordPageRead(metrics, path, visible);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RecordPageRead(metrics, path, visible);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        services.Dispose();

        // What an index read records: its request, its answer, a page found in memory.
        static void RecordPageRead(CuratedIndexMetrics metrics, Microsoft.AspNetCore.Http.PathString path, CuratedIndex.Features.Decisions.Decision decision)
        {
            metrics.IndexRequest("allocation-test", CuratedIndex.Features.Policies.Tier.Passthrough, IndexKind.Of(path));
            metrics.Answered("allocation-test", IndexKind.Simple, decision);
            metrics.CacheLookup("simple", UpstreamTags.FromMemory);
        }
    }

    [Fact]
    public async Task IndexReads_CountedByEnvironmentTierAndKind_HiddenAnswersByTheirRule_NeverByProject()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, "deny:\n  jmespath: a test denial\n");
        using var metrics = new MetricsRecorder(servers.Proxy);
        var client = servers.Proxy.Client;

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("dev/simple/six/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"dev/files/six/{Six}")).StatusCode);
        // Tier 2, not approved: the quarantined page that names the review request.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("ci/simple/six/")).StatusCode);
        // Denied by policy, in every tier; answered before upstream is asked.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("dev/simple/jmespath/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("prod/pypi/six/json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"ci/files/six/{Six}")).StatusCode);

        Assert.True(6 == metrics.Count("curated_index.index.requests"), string.Join("; ", metrics.Of("curated_index.index.requests").Select(m => string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}")))));
        Assert.Equal(2, metrics.Sum("curated_index.index.requests", ("env", "dev"), ("tier", "1"), ("kind", "simple")));
        Assert.Equal(1, metrics.Sum("curated_index.index.requests", ("env", "dev"), ("tier", "1"), ("kind", "files")));
        Assert.Equal(1, metrics.Sum("curated_index.index.requests", ("env", "ci"), ("tier", "2"), ("kind", "simple")));
        Assert.Equal(1, metrics.Sum("curated_index.index.requests", ("env", "ci"), ("tier", "2"), ("kind", "files")));
        Assert.Equal(1, metrics.Sum("curated_index.index.requests", ("env", "prod"), ("tier", "3"), ("kind", "json")));
        Assert.Equal(1, metrics.Sum("curated_index.index.hidden", ("env", "ci"), ("kind", "simple"), ("rule", "not_approved")));
        Assert.Equal(1, metrics.Sum("curated_index.index.hidden", ("env", "ci"), ("kind", "files"), ("rule", "not_approved")));
        Assert.Equal(1, metrics.Sum("curated_index.index.hidden", ("env", "dev"), ("kind", "simple"), ("rule", "denied")));
        Assert.Equal(1, metrics.Sum("curated_index.index.hidden", ("env", "prod"), ("kind", "json"), ("rule", "not_approved")));
        Assert.Equal(4, metrics.Sum("curated_index.index.hidden"));
        // Bounded cardinality: no tag of any measurement carries a project or file name.
        Assert.DoesNotContain(metrics.All(), m => m.Tags.Values.Any(v => v is "six" or "jmespath" or Six));
    }

    [Fact]
    public async Task FileMissThenHit_MovesTheArtifactCounters_PageCacheFromUpstreamThenMemory_UpstreamLatencyByKind()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite);
        using var metrics = new MetricsRecorder(servers.Proxy);
        var client = servers.Proxy.Client;

        using var miss = await client.GetAsync($"dev/files/six/{Six}");
        var missBody = await miss.Content.ReadAsByteArrayAsync();
        using var hit = await client.GetAsync($"dev/files/six/{Six}");
        var hitBody = await hit.Content.ReadAsByteArrayAsync();

        Assert.Equal(servers.Upstream.File(Six).Content, missBody);
        Assert.Equal(missBody, hitBody);
        Assert.Equal(1, metrics.Sum("curated_index.cache.lookups", ("cache", "artifact"), ("result", "miss")));
        Assert.Equal(1, metrics.Sum("curated_index.cache.lookups", ("cache", "artifact"), ("result", "hit")));
        Assert.Equal(1, metrics.Sum("curated_index.cache.lookups", ("cache", "simple"), ("result", "upstream")));
        Assert.Equal(1, metrics.Sum("curated_index.cache.lookups", ("cache", "simple"), ("result", "memory")));
        Assert.Equal(1, metrics.Count("curated_index.upstream.duration", ("kind", "page"), ("outcome", "ok")));
        Assert.Equal(1, metrics.Count("curated_index.upstream.duration", ("kind", "file"), ("outcome", "ok")));
        Assert.All(metrics.Of("curated_index.upstream.duration"), m => Assert.True(m.Value > 0, "a duration in seconds"));
        Assert.Equal(0, metrics.Sum("curated_index.upstream.errors"));
    }

    [Fact]
    public async Task UpstreamFailures_CountedByKind_Reset5xxAndHashMismatch_CachedContentServesOn()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite);
        using var metrics = new MetricsRecorder(servers.Proxy);
        var (upstream, client) = (servers.Upstream, servers.Proxy.Client);
        // The connection closes without an answer.
        upstream.Override["/simple/editables/"] = context =>
        {
            context.Abort();
            return Task.CompletedTask;
        };
        // Same length, one byte different: the sha256 does not match the index.
        var first = upstream.File(First);
        first.ServedContent = [.. first.Content[..^1], (byte)(first.Content[^1] ^ 1)];

        using var reset = await client.GetAsync("dev/simple/editables/");
        // The body streams to the client and is cut before its last byte when the digest does not match.
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetByteArrayAsync($"dev/files/first/{First}"));
        upstream.Down = true;
        using var down = await client.GetAsync("dev/simple/six/");

        Assert.Equal(HttpStatusCode.BadGateway, reset.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.Equal(1, metrics.Sum("curated_index.upstream.errors", ("kind", "page"), ("error", "reset")));
        Assert.Equal(1, metrics.Sum("curated_index.upstream.errors", ("kind", "page"), ("error", "5xx")));
        Assert.Equal(1, metrics.Sum("curated_index.upstream.errors", ("kind", "file"), ("error", "hash_mismatch")));
        Assert.Equal(2, metrics.Count("curated_index.upstream.duration", ("kind", "page"), ("outcome", "error")));
    }

    [Fact]
    public async Task JobRuns_CountedByJobKeyAndOutcome_WithTheirDuration()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, DatabaseProvider.Sqlite, ManualJobs.Settings(),
            configure: b => b.Services.AddCuratedIndexJob<JobsIntegrationTests.FailingJob>("Failing", "Always fails.", "manual"));
        using var metrics = new MetricsRecorder(proxy);

        var succeeded = await JobsIntegrationTests.RunAsync(proxy, "Scrub");
        var failed = await JobsIntegrationTests.RunAsync(proxy, "Failing");

        Assert.Equal((JobRunState.Succeeded, JobRunState.Failed), (succeeded.Status, failed.Status));
        Assert.Equal(1, metrics.Sum("curated_index.jobs.runs", ("job", "Scrub"), ("outcome", "succeeded")));
        Assert.Equal(1, metrics.Sum("curated_index.jobs.runs", ("job", "Failing"), ("outcome", "failed")));
        Assert.Equal(2, metrics.Count("curated_index.jobs.duration"));
    }

    [Fact]
    public async Task ProvenanceVerifications_CountedByOutcome_ThroughTheTier3Endpoint()
    {
        var (servers, _) = await CuratedIndex.Tests.Features.Provenance.ProvenanceServers.StartAsync(DatabaseProvider.Sqlite, "approve: [pypi-attestations, sigstore]\ncooldown:\n  pypi-attestations: 0d\n  sigstore: 0d\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations));
        upstream.AddAttested("sigstore", Sigstore, FlipSignatureByte(Document(Sigstore)));
        using var metrics = new MetricsRecorder(proxy);
        await proxy.PostJsonAsync("api/v1/projects/pypi-attestations/releases/0.0.19/vet", new { reason = "read the diff" });
        await proxy.PostJsonAsync("api/v1/projects/sigstore/releases/3.6.1/vet", new { reason = "read the diff" });

        using var good = await proxy.Client.GetAsync($"prod/integrity/pypi-attestations/0.0.19/{PypiAttestations}/provenance");
        using var bad = await proxy.Client.GetAsync($"prod/integrity/sigstore/3.6.1/{Sigstore}/provenance");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.NotFound), (good.StatusCode, bad.StatusCode));
        // Each file is verified once (the vetting or the first request), then served from what was stored.
        Assert.Equal(1, metrics.Sum("curated_index.provenance.verifications", ("outcome", ProvenanceStateText.Verified)));
        Assert.Equal(1, metrics.Sum("curated_index.provenance.verifications", ("outcome", ProvenanceStateText.Failed)));
    }

    [Fact]
    public async Task QueueGauges_ReadCountsMadeInTheBackground_NeverQueryOnCollection()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite);
        using var metrics = new MetricsRecorder(servers.Proxy);
        var queues = servers.Proxy.Services.GetRequiredService<TelemetryQueues>();
        // Demand for a project tier 2 does not show: one pending review request.
        Assert.Equal(HttpStatusCode.OK, (await servers.Proxy.Client.GetAsync("ci/simple/six/")).StatusCode);

        // The first collection has nothing counted yet: it starts the count and reports nothing rather than waiting.
        metrics.Collect();
        var beforeCount = metrics.Of("curated_index.review.pending").Count;
        await queues.Refreshing;
        metrics.Collect();

        Assert.Equal(0, beforeCount);
        Assert.Equal(1, metrics.Of("curated_index.review.pending")[^1].Value);
        Assert.Equal(["enqueued", "failed", "processing", "scheduled"], metrics.Of("curated_index.jobs.queue").Select(m => (string)m.Tags["state"]!).Order(StringComparer.Ordinal));
    }
}

/// <summary>Every measurement of one proxy's <c>CuratedIndex</c> meter, with its tags.</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measured> _measurements = new();

    public MetricsRecorder(ProxyInstance proxy)
    {
        var meters = proxy.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name == CuratedIndexMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    public IReadOnlyList<Measured> All() => _measurements.ToList();

    public IReadOnlyList<Measured> Of(string instrument, params (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && (string?)v == t.Value)).ToList();

    public double Sum(string instrument, params (string Key, string Value)[] tags) => Of(instrument, tags).Sum(m => m.Value);

    public int Count(string instrument, params (string Key, string Value)[] tags) => Of(instrument, tags).Count;

    /// <summary>Asks the observable gauges for their values now (what an exporter's collection does).</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue;
        }

        _measurements.Enqueue(new Measured(instrument.Name, value, copy));
    }
}
