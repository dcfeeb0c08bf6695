using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Features.Decisions;

/// <summary>
/// Everything the organization decided, as one immutable value: the policy files and the reviewer decisions.
/// A new instance exists exactly when either changes, so caches of rendered pages compare it by reference.
/// </summary>
public sealed record Curation(PolicySnapshot Policy, ReviewerDecisions Reviews)
{
    /// <summary>The release decisions in force (tier 3).</summary>
    public ReleaseVettings Vettings { get; init; } = ReleaseVettings.None;

    /// <summary>The publishers reviewers vetted (the ones in policy files are in <see cref="Policy"/>).</summary>
    public ReviewerPublishers Publishers { get; init; } = ReviewerPublishers.None;

    /// <summary>
    /// The vetted publishers of a project in force: the policy files' entries, then reviewers' (an entry in both is the
    /// policy file's: a reviewer cannot remove what a file declares).
    /// </summary>
    public IReadOnlyList<PublisherGrant> VettedPublishers(string project)
    {
        var grants = Policy.PublishersFor(project).Select(p => new PublisherGrant(p, PublisherAudit.PolicySource, "declared in a policy file", null)).ToList();
        grants.AddRange(Publishers.Of(project).Where(r => grants.All(g => g.Publisher.Key != r.Publisher.Key)));
        return grants;
    }

    /// <summary>Approved by a policy file or by a reviewer, and neither denied nor an internal name: what tier 2 would show.</summary>
    public bool IsApproved(string project)
    {
        var review = Reviews.For(project);
        return !Policy.Denied.ContainsKey(project)
            && review is not { Verdict: Verdict.Denied }
            && !DecisionFunction.IsInternal(Policy, project)
            && (Policy.Approved.Contains(project) || review is { Verdict: Verdict.Approved });
    }

    /// <summary>Where typosquat findings come from; null (no findings) where detection is not wired, e.g. in unit tests.</summary>
    public TyposquatScreening? Screening { get; init; }

    /// <summary>
    /// Decides with the signals this Curation knows of: the typosquat finding is looked up only for environments that
    /// block typosquats, so the others pay nothing for it.
    /// </summary>
    public Decision Decide(EnvironmentPolicy environment, DecisionSubject subject, UpstreamFacts facts) =>
        Decide(environment, subject, facts, SignalsFor(environment, subject.Project));

    /// <summary>Decides with signals already computed, for callers that ask about one project many times (a page's files).</summary>
    public Decision Decide(EnvironmentPolicy environment, DecisionSubject subject, UpstreamFacts facts, DecisionSignals signals) =>
        DecisionFunction.Decide(environment, Policy, Reviews, subject, facts, signals, Vettings);

    /// <summary>Approved by a policy file (<c>approve:</c>) or by a reviewer, in name order, each once.</summary>
    public IReadOnlyList<string> ApprovedProjects() =>
        Policy.Approved
            .Concat(Reviews.ByProject.Where(p => p.Value.Verdict == Verdict.Approved).Select(p => p.Key))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The organization's own names, which lookalikes are compared with: approved (policy or reviewer) and internal, each once.</summary>
    public IReadOnlyList<string> OrganizationNames() =>
        ApprovedProjects().Concat(Policy.InternalNames).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The typosquat finding for a project (normalized) against the corpus and this Curation's names, or null.</summary>
    public TyposquatSignal? Typosquat(string project) => Screening?.Check(this, project);

    public DecisionSignals SignalsFor(EnvironmentPolicy environment, string project) =>
        environment.Typosquat == TyposquatMode.Block ? SignalsFor(environment, Typosquat(project)) : DecisionSignals.None;

    /// <summary>The signals an environment decides with, given the project's typosquat finding (only block environments use it).</summary>
    public static DecisionSignals SignalsFor(EnvironmentPolicy environment, TyposquatSignal? finding) =>
        environment.Typosquat == TyposquatMode.Block && finding is not null ? new DecisionSignals(finding) : DecisionSignals.None;
}
