using System.Diagnostics;
using System.Diagnostics.Metrics;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;

namespace CuratedIndex.Hosting;

/// <summary>
/// Meter <c>CuratedIndex</c>: what the index serves and hides, its caches, upstream, jobs and provenance (README,
/// "Observability and health"). Every tag has a bounded set of values (environments and job keys come from
/// configuration, rules and kinds from code); no tag ever carries a project name. Instruments are created through
/// <see cref="IMeterFactory"/>, so each host has its own meter (and tests listen to their own host only).
/// </summary>
public sealed class CuratedIndexMetrics
{
    public const string MeterName = "CuratedIndex";

    // Tag values made once: recording allocates nothing (TagList is a struct, these are constants).
    private static readonly string[] TierNames = ["0", "1", "2", "3"];
    private static readonly string[] RuleNames = Enum.GetValues<DecisionRule>().Select(RuleName).ToArray();

    private readonly Counter<long> _indexRequests;
    private readonly Counter<long> _hiddenAnswers;
    private readonly Counter<long> _cacheLookups;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamErrors;
    private readonly Counter<long> _jobRuns;
    private readonly Histogram<double> _jobDuration;
    private readonly Counter<long> _provenanceVerifications;
    private long _lastUpstreamAnswer;
    private long _lastUpstreamFailure;
    private volatile string? _lastUpstreamError;

    public CuratedIndexMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _indexRequests = Meter.CreateCounter<long>("curated_index.index.requests", description: "Index reads (simple pages and the root list, files, JSON API, provenance) by environment, tier and kind");
        _hiddenAnswers = Meter.CreateCounter<long>("curated_index.index.hidden", description: "Index answers hidden by the decision function, by environment, kind and decision rule");
        _cacheLookups = Meter.CreateCounter<long>("curated_index.cache.lookups", description: "Cache lookups by cache (simple, json: upstream documents; artifact: the artifact store) and where the answer came from");
        _upstreamDuration = Meter.CreateHistogram<double>("curated_index.upstream.duration", unit: "s", description: "Upstream requests from send to the end of the body, by kind (page, file) and outcome");
        _upstreamErrors = Meter.CreateCounter<long>("curated_index.upstream.errors", description: "Upstream failures by kind (page, file) and error (timeout, 5xx, reset, hash_mismatch, other)");
        _jobRuns = Meter.CreateCounter<long>("curated_index.jobs.runs", description: "Job runs by job key and outcome (succeeded, failed, interrupted)");
        _jobDuration = Meter.CreateHistogram<double>("curated_index.jobs.duration", unit: "s", description: "Job run time by job key and outcome");
        _provenanceVerifications = Meter.CreateCounter<long>("curated_index.provenance.verifications", description: "PEP 740 provenance checks of distribution files by outcome (verified, failed, unavailable)");
    }

    /// <summary>The meter, for the observable gauges that read cached values (<see cref="TelemetryQueues"/>).</summary>
    public Meter Meter { get; }

    public void IndexRequest(string environment, Tier tier, string kind) =>
        _indexRequests.Add(1, new TagList { { "env", environment }, { "tier", TierName(tier) }, { "kind", kind } });

    /// <summary>Counts <paramref name="decision"/> when it hides; a visible decision is not counted here.</summary>
    public void Answered(string environment, string kind, Decision decision)
    {
        if (decision.Visible)
        {
            return;
        }

        var rule = RuleNames[(int)decision.Rule];
        _hiddenAnswers.Add(1, new TagList { { "env", environment }, { "kind", kind }, { "rule", rule } });
        // The request's server span (when traced) says which rule decided it.
        Activity.Current?.SetTag("curated_index.decision.rule", rule);
    }

    public void CacheLookup(string cache, string result) =>
        _cacheLookups.Add(1, new TagList { { "cache", cache }, { "result", result } });

    public void UpstreamRequest(string kind, string outcome, TimeSpan elapsed)
    {
        _upstreamDuration.Record(elapsed.TotalSeconds, new TagList { { "kind", kind }, { "outcome", outcome } });
        if (outcome != UpstreamTags.Error)
        {
            Interlocked.Exchange(ref _lastUpstreamAnswer, Environment.TickCount64);
        }
    }

    public void UpstreamError(string kind, string error)
    {
        _upstreamErrors.Add(1, new TagList { { "kind", kind }, { "error", error } });
        if (error != UpstreamTags.HashMismatch)
        {
            // A wrong hash is upstream answering (with bad bytes): it says nothing about reachability.
            _lastUpstreamError = error;
            Interlocked.Exchange(ref _lastUpstreamFailure, Environment.TickCount64);
        }
    }

    /// <summary>
    /// This node's last upstream request: whether it was answered (any status but a failure), how long ago, and the
    /// error kind of a failure; null before the first one. For <c>/readyz</c>, which reports upstream without asking it.
    /// </summary>
    public (bool Answered, TimeSpan Ago, string? Error)? LastUpstream()
    {
        var answered = Interlocked.Read(ref _lastUpstreamAnswer);
        var failed = Interlocked.Read(ref _lastUpstreamFailure);
        if (answered == 0 && failed == 0)
        {
            return null;
        }

        var now = Environment.TickCount64;
        return answered >= failed
            ? (true, TimeSpan.FromMilliseconds(now - answered), null)
            : (false, TimeSpan.FromMilliseconds(now - failed), _lastUpstreamError);
    }

    public void JobRun(string job, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList { { "job", job }, { "outcome", outcome } };
        _jobRuns.Add(1, tags);
        _jobDuration.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary><paramref name="run"/>, counted in <c>curated_index.jobs.runs</c> and timed when it ends: succeeded, failed or interrupted.</summary>
    public Func<CancellationToken, Task> Measured(string job, Func<CancellationToken, Task> run) => async cancellationToken =>
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "failed";
        try
        {
            await run(cancellationToken);
            outcome = "succeeded";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "interrupted";
            throw;
        }
        finally
        {
            JobRun(job, outcome, Stopwatch.GetElapsedTime(started));
        }
    };

    public void ProvenanceVerification(string outcome) =>
        _provenanceVerifications.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A rule's tag value: <c>NotApproved</c> → <c>not_approved</c>.</summary>
    public static string RuleName(DecisionRule rule) =>
        string.Concat(rule.ToString().Select((c, i) => char.IsUpper(c) ? (i == 0 ? "" : "_") + char.ToLowerInvariant(c) : c.ToString()));

    private static string TierName(Tier tier) => (int)tier is >= 0 and < 4 ? TierNames[(int)tier] : "0";
}

/// <summary>The <c>kind</c> of an index read, from its path's second segment.</summary>
public static class IndexKind
{
    public const string Simple = "simple";
    public const string Files = "files";
    public const string Json = "json";
    public const string Provenance = "provenance";
    public const string Other = "other";

    /// <summary>
    /// <c>/{env}/simple/…</c> → simple, <c>files</c>, <c>pypi</c> → json, <c>integrity</c> → provenance, without regard to
    /// case (as routing); anything else → other. No allocation: the request path's one parser (metrics and
    /// <see cref="SocketThreads.IsIndexRead"/>).
    /// </summary>
    public static string Of(PathString path) => Of(path.Value);

    public static string Of(string? path)
    {
        var span = path.AsSpan();
        if (span.Length < 2 || span[0] != '/')
        {
            return Other;
        }

        var envEnd = span[1..].IndexOf('/');
        if (envEnd <= 0)
        {
            return Other;
        }

        var rest = span[(envEnd + 2)..];
        var kindEnd = rest.IndexOf('/');
        var kind = kindEnd < 0 ? rest : rest[..kindEnd];
        return kind.Equals("simple", StringComparison.OrdinalIgnoreCase) ? Simple
            : kind.Equals("files", StringComparison.OrdinalIgnoreCase) ? Files
            : kind.Equals("pypi", StringComparison.OrdinalIgnoreCase) ? Json
            : kind.Equals("integrity", StringComparison.OrdinalIgnoreCase) ? Provenance
            : Other;
    }
}

/// <summary>Tag values of <c>curated_index.upstream.*</c> and <c>curated_index.cache.lookups</c>.</summary>
public static class UpstreamTags
{
    public const string Page = "page";
    public const string File = "file";

    public const string Ok = "ok";
    public const string NotModified = "not_modified";
    public const string NotFound = "not_found";
    public const string Error = "error";

    public const string Timeout = "timeout";
    public const string ServerError = "5xx";
    public const string Reset = "reset";
    public const string HashMismatch = "hash_mismatch";
    public const string OtherError = "other";

    public const string Artifact = "artifact";
    public const string FromMemory = "memory";
    public const string FromDatabase = "database";
    public const string FromUpstream = "upstream";
    public const string Hit = "hit";
    public const string Miss = "miss";
}
