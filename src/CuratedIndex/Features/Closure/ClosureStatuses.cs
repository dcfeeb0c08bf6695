using System.Globalization;
using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Closure;

/// <summary>What is known of one member besides decisions: its release's signals, first sight, provenance and popularity.</summary>
public sealed record MemberFacts(IReadOnlyList<string> Signals, DateTime? FirstSeenAt, string? Provenance, int? PopularityRank)
{
    public static MemberFacts None { get; } = new([], null, null, null);
}

/// <summary>
/// Each closure member's status in one environment, from the one decision function plus what "with dependencies" must
/// not decide silently: a typosquat finding, a release signal, a reviewer's deferral. The facts come from the database
/// in a few queries per closure; the statuses themselves are <see cref="Describe"/>, pure.
/// </summary>
public sealed class ClosureStatuses(CurationStore curations, IServiceScopeFactory scopes, PopularityRanks ranks)
{
    public async Task<ClosureView> DescribeAsync(DependencyClosure closure, EnvironmentPolicy environment, CancellationToken cancellationToken)
    {
        var projects = closure.Members.Select(m => m.Project).Distinct(StringComparer.Ordinal).ToList();
        var facts = new Dictionary<(string, string), MemberFacts>();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var signals = await db.ReleaseSignals.AsNoTracking().Where(s => projects.Contains(s.Project)).Select(s => new { s.Project, s.Version, s.Kind }).ToListAsync(cancellationToken);
            var seen = await db.SeenReleases.AsNoTracking().Where(s => projects.Contains(s.Project)).Select(s => new { s.Project, s.Version, s.FirstSeenAt }).ToListAsync(cancellationToken);
            var provenance = await db.FileProvenances.AsNoTracking().Where(p => projects.Contains(p.Project)).Select(p => new { p.Project, p.Version, p.State, p.Publishers }).ToListAsync(cancellationToken);
            foreach (var member in closure.Members)
            {
                var states = provenance.Where(p => p.Project == member.Project && p.Version == member.Version).ToList();
                var provenanceText = states.Count == 0 ? null
                    : states.All(s => s.State == ProvenanceStateText.Verified) ? $"provenance verified ({string.Join(", ", states.SelectMany(s => (s.Publishers ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)).Distinct())})"
                    : states.Any(s => s.State == ProvenanceStateText.Failed) ? "provenance FAILED verification"
                    : states.All(s => s.State == ProvenanceStateText.None) ? "no provenance" : "provenance partly checked";
                facts[(member.Project, member.Version)] = new MemberFacts(
                    signals.Where(s => s.Project == member.Project && s.Version == member.Version).Select(s => s.Kind).Distinct().ToList(),
                    seen.FirstOrDefault(s => s.Project == member.Project && s.Version == member.Version)?.FirstSeenAt,
                    provenanceText,
                    ranks.RankOf(member.Project));
            }
        }

        return Describe(closure, environment, curations.Current, (project, version) => facts.GetValueOrDefault((project, version)) ?? MemberFacts.None);
    }

    /// <summary>The statuses of every member in <paramref name="environment"/> under <paramref name="curation"/>. Pure.</summary>
    public static ClosureView Describe(DependencyClosure closure, EnvironmentPolicy environment, Curation curation, Func<string, string, MemberFacts> factsOf)
    {
        var views = closure.Members.Select(member => DescribeMember(closure, member, environment, curation, factsOf(member.Project, member.Version))).ToList();
        return new ClosureView(closure, environment.Name, (int)environment.Tier, views);
    }

    private static MemberView DescribeMember(DependencyClosure closure, ClosureMember member, EnvironmentPolicy environment, Curation curation, MemberFacts facts)
    {
        var subject = new DecisionSubject(member.Project, environment.Tier == Tier.Vetted ? member.Version : null);
        var decision = curation.Decide(environment, subject, UpstreamFacts.None);
        var review = curation.Reviews.For(member.Project);
        var finding = decision.Visible || curation.IsApproved(member.Project) ? null : curation.Typosquat(member.Project);
        var signals = facts.Signals.Count == 0 ? null : $"release signals: {string.Join(", ", facts.Signals)}";
        var (status, reason) = decision.Rule switch
        {
            DecisionRule.Allowed => (MemberStatus.Visible, decision.Reason),
            DecisionRule.Denied => (MemberStatus.Denied, decision.Reason),
            DecisionRule.Internal => (MemberStatus.Internal, decision.Reason),
            DecisionRule.Typosquat => (MemberStatus.Typosquat, decision.Reason),
            DecisionRule.Rejected => (MemberStatus.Rejected, decision.Reason),
            DecisionRule.NotApproved when review is { Verdict: Verdict.Deferred } => (MemberStatus.Deferred, $"deferred by reviewer {review.Actor}: {review.Reason}"),
            DecisionRule.NotApproved when finding is not null => (MemberStatus.Typosquat, $"typosquat finding: {finding.Describe()}"),
            DecisionRule.NotApproved or DecisionRule.NotVetted when signals is not null => (MemberStatus.Signal, signals),
            DecisionRule.NotApproved => (MemberStatus.Pending, decision.Reason),
            DecisionRule.NotVetted => (MemberStatus.NotVetted, decision.Reason),
            _ => (MemberStatus.Hidden, decision.Reason),
        };

        // The root too: a finding, a signal or another reviewer's deferral on it is decided on its own, never in passing.
        var blocks = status is not (MemberStatus.Visible or MemberStatus.Pending or MemberStatus.NotVetted);
        return new MemberView(member, status, reason, Evidence(member, facts, finding), blocks);
    }

    private static string Evidence(ClosureMember member, MemberFacts facts, TyposquatSignal? finding)
    {
        var parts = new List<string>();
        if (facts.PopularityRank is { } rank)
        {
            parts.Add($"#{rank.ToString(CultureInfo.InvariantCulture)} most downloaded");
        }

        if (facts.FirstSeenAt is { } seen)
        {
            parts.Add($"first seen {seen.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}");
        }

        parts.Add(facts.Provenance ?? "provenance not checked");
        if (facts.Signals.Count > 0)
        {
            parts.Add($"signals: {string.Join(", ", facts.Signals)}");
        }

        if (finding is not null)
        {
            parts.Add($"looks like '{finding.Imitated}'");
        }

        parts.Add(member.MetadataSource is null ? "dependencies unknown" : $"dependencies from {member.MetadataSource}");
        return string.Join(" · ", parts);
    }
}
