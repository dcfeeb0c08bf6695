using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;

namespace CuratedIndex.Features.Decisions;

/// <summary>
/// Everything the organization decided, as one immutable value: the policy files and the reviewer decisions.
/// A new instance exists exactly when either changes, so caches of rendered pages compare it by reference.
/// </summary>
public sealed record Curation(PolicySnapshot Policy, ReviewerDecisions Reviews)
{
    public Decision Decide(EnvironmentPolicy environment, DecisionSubject subject, UpstreamFacts facts) =>
        DecisionFunction.Decide(environment, Policy, Reviews, subject, facts);
}
