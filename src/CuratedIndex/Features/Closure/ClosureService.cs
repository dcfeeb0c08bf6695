using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Closure;

/// <summary>A closure with statuses, or why there is none (<see cref="Failure"/> is Refused, NotFound or UpstreamFailed).</summary>
public sealed record ClosureLookup(ClosureView? View, ClosureDecisionStatus Failure, string? Message)
{
    public static ClosureLookup Of(ClosureView view) => new(view, ClosureDecisionStatus.Decided, null);

    public static ClosureLookup Fail(ClosureDecisionStatus status, string message) => new(null, status, message);
}

/// <summary>
/// Computes dependency closures once per (project, version asked, extras, targets) and keeps them: in memory, and in
/// <c>dependency_closures</c> for other nodes and for lists that must not wait for upstream. A closure is used for
/// <c>Closure:MaxAge</c>; one with a transient problem (upstream failing) is not kept. Statuses are not part of what is
/// kept: they are described per environment from the decisions in force at each request (<see cref="ClosureStatuses"/>).
/// </summary>
public sealed class ClosureService(
    ProjectPageCache pages,
    ReleaseMetadata metadata,
    CurationStore curations,
    ClosureStatuses statuses,
    CuratedIndex.Features.Releases.ReleaseObserver observer,
    IServiceScopeFactory scopes,
    IOptions<ClosureOptions> options,
    TimeProvider clock)
{
    // Closures are a few KB each; past this many the memory copy starts again from the database.
    private const int MaxMemoryEntries = 5_000;

    private readonly ConcurrentDictionary<string, DependencyClosure> _memory = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ClosureComputation>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// The closure of <paramref name="project"/> (normalized) at <paramref name="version"/> (null: the newest release
    /// on the environment's targets) with <paramref name="extras"/>, with each member's status in <paramref name="environment"/>.
    /// </summary>
    public async Task<ClosureLookup> ViewAsync(string project, string? version, IReadOnlyList<string> extras, string environment, CancellationToken cancellationToken)
    {
        if (Validate(project, version, extras, environment) is { } refused)
        {
            return refused;
        }

        var policy = curations.Current.Policy.Environments[environment];
        var computed = await GetAsync(project, version is null ? null : CuratedIndex.Features.Releases.ReleaseVettings.NormalizeVersion(version), NormalizeExtras(extras), policy.Targets, cancellationToken);
        return computed.Closure is null
            ? ClosureLookup.Fail(computed.Failure, computed.Message!)
            : ClosureLookup.Of(await statuses.DescribeAsync(computed.Closure, policy, cancellationToken));
    }

    /// <summary>
    /// The view of the closure already computed for <paramref name="project"/>'s newest release (no extras) on the
    /// environment's targets, without asking upstream: null when none is stored yet (a background run computes the
    /// closures of pending review requests). For lists such as the review queue, which must not wait for upstream.
    /// </summary>
    public async Task<ClosureView?> StoredViewAsync(string project, string environment, CancellationToken cancellationToken)
    {
        if (!curations.Current.Policy.Environments.TryGetValue(environment, out var policy))
        {
            return null;
        }

        var key = KeyOf(project, null, [], policy.Targets);
        var closure = _memory.GetValueOrDefault(key) ?? await LoadAsync(key, cancellationToken);
        return closure is null ? null : await statuses.DescribeAsync(closure, policy, cancellationToken);
    }

    /// <summary>Computes (or reuses, while younger than <c>Closure:MaxAge</c>) the closure of a project's newest release for an environment; for the Closures job.</summary>
    public async Task<string?> EnsureAsync(string project, string environment, CancellationToken cancellationToken)
    {
        if (!curations.Current.Policy.Environments.TryGetValue(environment, out var policy))
        {
            return $"no environment '{environment}'";
        }

        var computed = await GetAsync(project, null, [], policy.Targets, cancellationToken);
        return computed.Closure is null ? computed.Message : null;
    }

    private ClosureLookup? Validate(string project, string? version, IReadOnlyList<string> extras, string environment)
    {
        if (!curations.Current.Policy.Environments.ContainsKey(environment))
        {
            return ClosureLookup.Fail(ClosureDecisionStatus.Refused, $"no environment '{Printable(environment)}' (known: {string.Join(", ", curations.Current.Policy.Environments.Keys.Order(StringComparer.Ordinal))})");
        }

        if (!ProjectName.IsValid(project))
        {
            return ClosureLookup.Fail(ClosureDecisionStatus.Refused, $"'{Printable(project)}' is not a valid project name");
        }

        if (version is not null && CuratedIndex.Features.Releases.ReleaseVettings.NormalizeVersion(version) is null)
        {
            return ClosureLookup.Fail(ClosureDecisionStatus.Refused, $"'{Printable(version)}' is not a PEP 440 version");
        }

        if (extras.Count > 32)
        {
            return ClosureLookup.Fail(ClosureDecisionStatus.Refused, "at most 32 extras");
        }

        if (extras.FirstOrDefault(e => !ProjectName.IsValid(e)) is { } badExtra)
        {
            return ClosureLookup.Fail(ClosureDecisionStatus.Refused, $"'{Printable(badExtra)}' is not a valid extra name");
        }

        return null;
    }

    private sealed record ClosureComputation(DependencyClosure? Closure, ClosureDecisionStatus Failure, string? Message);

    private async Task<ClosureComputation> GetAsync(string project, string? version, IReadOnlyList<string> extras, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        var key = KeyOf(project, version, extras, targets);
        var now = clock.GetUtcNow().UtcDateTime;
        if (_memory.TryGetValue(key, out var remembered) && now - remembered.ComputedAt < options.Value.MaxAge)
        {
            return new ClosureComputation(remembered, ClosureDecisionStatus.Decided, null);
        }

        if (await LoadAsync(key, cancellationToken) is { } stored && now - stored.ComputedAt < options.Value.MaxAge)
        {
            Remember(key, stored);
            return new ClosureComputation(stored, ClosureDecisionStatus.Decided, null);
        }

        // One computation per closure at a time on this node; the others wait for it (cancelling one waiter cancels no other).
        var lazy = _inFlight.GetOrAdd(key, _ => new Lazy<Task<ClosureComputation>>(() => ComputeAsync(key, project, version, extras, targets)));
        // Removed when the computation ends, whoever is still waiting: a finished result is never handed to a later caller.
        _ = lazy.Value.ContinueWith(_ => _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<ClosureComputation>>>(key, lazy)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await lazy.Value.WaitAsync(cancellationToken);
    }

    private async Task<ClosureComputation> ComputeAsync(string key, string project, string? version, IReadOnlyList<string> extras, IReadOnlyList<string> targetTexts)
    {
        var cancellationToken = CancellationToken.None;
        var targets = targetTexts.Select(t => PythonTarget.TryParse(t, out var target, out _) ? target : null).OfType<PythonTarget>().ToList();
        var lookup = await pages.GetAsync(project, cancellationToken);
        switch (lookup.Status)
        {
            case LookupStatus.NotFound:
                return new ClosureComputation(null, ClosureDecisionStatus.NotFound, $"upstream has no project '{project}'");
            case LookupStatus.Failed:
                return new ClosureComputation(null, ClosureDecisionStatus.UpstreamFailed, $"upstream is unavailable ({lookup.Reason})");
        }

        // Every page a closure reads is observed as a tier 3 page is: first sight and signals are recorded now, so the
        // statuses show a release's signals before anyone decides it (a signal found later would be decided silently).
        await observer.ObserveAsync(lookup.Value!.Page, lookup.Stamp, cancellationToken);
        var releases = ProjectReleases.Of(project, lookup.Value!.Page).Releases!;
        ReleaseCandidate? root;
        if (version is not null)
        {
            var wanted = CuratedIndex.Features.Releases.ReleaseVettings.ReleaseKey(version);
            root = releases.FirstOrDefault(r => CuratedIndex.Features.Releases.ReleaseVettings.ReleaseKey(r.Version) == wanted);
            if (root is null)
            {
                return new ClosureComputation(null, ClosureDecisionStatus.NotFound, $"upstream lists no release {version} of '{project}'");
            }
        }
        else
        {
            // The newest release some target can install: what `pip install project` picks on it.
            root = targets.Select(t => ClosureWalker.Choose(releases, [], t)).OfType<ReleaseCandidate>().MaxBy(r => r.Parsed);
            if (root is null)
            {
                return new ClosureComputation(null, ClosureDecisionStatus.NotFound, $"'{project}' has no release any of the targets ({string.Join(", ", targetTexts)}) can install");
            }
        }

        var walk = await ClosureWalker.WalkAsync(project, root, extras, targets, new Sources(pages, metadata, observer), clock.GetUtcNow().UtcDateTime, cancellationToken, version is null ? releases : null);
        if (!walk.Transient)
        {
            Remember(key, walk.Closure);
            await SaveAsync(key, project, version ?? "", walk.Closure, cancellationToken);
        }

        return new ClosureComputation(walk.Closure, ClosureDecisionStatus.Decided, null);
    }

    private void Remember(string key, DependencyClosure closure)
    {
        if (_memory.Count >= MaxMemoryEntries)
        {
            _memory.Clear();
        }

        _memory[key] = closure;
    }

    private sealed class Sources(ProjectPageCache pages, ReleaseMetadata metadata, CuratedIndex.Features.Releases.ReleaseObserver observer) : IClosureSources
    {
        public async Task<ProjectReleases> ReleasesAsync(string project, CancellationToken cancellationToken)
        {
            var lookup = await pages.GetAsync(project, cancellationToken);
            if (lookup.Status == LookupStatus.Found)
            {
                await observer.ObserveAsync(lookup.Value!.Page, lookup.Stamp, cancellationToken);
            }

            return lookup.Status switch
            {
                LookupStatus.Found => ProjectReleases.Of(project, lookup.Value!.Page),
                LookupStatus.NotFound => new ProjectReleases(null, ClosureProblemKind.NotFound, $"upstream has no project '{project}'"),
                _ => new ProjectReleases(null, ClosureProblemKind.Metadata, $"{project}: upstream is unavailable ({lookup.Reason})", Transient: true),
            };
        }

        public Task<FileDependencies> DependenciesAsync(string project, ReleaseCandidate release, DistributionFile file, CancellationToken cancellationToken) =>
            metadata.ReadAsync(project, release.Version, file, cancellationToken);
    }

    /// <summary>Extras as PEP 685 compares them: normalized, each once, sorted (so the cache key does not depend on order).</summary>
    public static IReadOnlyList<string> NormalizeExtras(IReadOnlyList<string> extras) =>
        extras.Select(ProjectName.Normalize).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private static string KeyOf(string project, string? version, IReadOnlyList<string> extras, IReadOnlyList<string> targets)
    {
        var text = $"{project}\n{version ?? ""}\n{string.Join(',', extras)}\n{string.Join(';', targets.Order(StringComparer.Ordinal))}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private async Task<DependencyClosure?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var row = await db.Closures.AsNoTracking().FirstOrDefaultAsync(c => c.Key == key, cancellationToken);
        if (row is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DependencyClosure>(row.Document, JsonOptions);
        }
        catch (JsonException)
        {
            // A document this build cannot read (written by another version) is computed again.
            return null;
        }
    }

    private async Task SaveAsync(string key, string project, string requestedVersion, DependencyClosure closure, CancellationToken cancellationToken)
    {
        var document = JsonSerializer.Serialize(closure, JsonOptions);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO dependency_closures (key, project, requested_version, document, computed_at) VALUES ({key}, {project}, {requestedVersion}, {document}, {closure.ComputedAt})
            ON CONFLICT (key) DO UPDATE SET document = excluded.document, computed_at = excluded.computed_at
            """, cancellationToken);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static string Printable(string text) => Review.ReviewApi.Printable(text);
}
