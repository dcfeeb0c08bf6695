using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.Decisions;

/// <summary>
/// The one answer to "may this environment see this project, release, file?". Simple pages, file
/// downloads, the JSON API and explain all call it, so they cannot disagree. Pure: everything it
/// depends on is an argument.
/// </summary>
public static class DecisionFunction
{
    public static Decision Decide(EnvironmentPolicy environment, PolicySnapshot policy, ReviewerDecisions reviews, DecisionSubject subject, UpstreamFacts facts, DecisionSignals? signals = null)
    {
        // Deny rules apply in every tier and win over every approval: a policy file's, then a reviewer's.
        if (policy.Denied.TryGetValue(subject.Project, out var denyReason))
        {
            return Decision.Hide(DecisionRule.Denied, $"denied by policy: {denyReason}");
        }

        var review = reviews.For(subject.Project);
        if (review is { Verdict: Verdict.Denied })
        {
            // Index clients read why, not who: the reviewer's name stays in explain, the UI and the audit log.
            return Decision.Hide(DecisionRule.Denied, $"denied by reviewer {review.Actor}: {review.Reason}", $"denied by a reviewer: {review.Reason}");
        }

        // Dependency confusion: an internal name is never served from the public upstream, in any tier.
        if (IsInternal(policy, subject.Project))
        {
            return Decision.Hide(DecisionRule.Internal, $"'{subject.Project}' is an internal name (policy 'internal:'); it is never served from the public upstream");
        }

        // PEP 792: a quarantined project must not offer any distribution, whatever our tier.
        if (string.Equals(facts.ProjectStatus, ProjectStatus.Quarantined, StringComparison.Ordinal))
        {
            return Decision.Hide(DecisionRule.UpstreamQuarantined, "quarantined upstream");
        }

        // A lookalike of a popular or organization name, where the environment blocks them. A name approved by policy
        // or by a reviewer is never blocked as a typosquat: someone looked at it.
        if (environment.Typosquat == TyposquatMode.Block
            && signals?.Typosquat is { } typosquat
            && !policy.Approved.Contains(subject.Project)
            && review is not { Verdict: Verdict.Approved })
        {
            return Decision.Hide(DecisionRule.Typosquat, $"blocked as a typosquat in environment '{environment.Name}': {typosquat.Describe()}");
        }

        if (environment.Tier == Tier.Passthrough)
        {
            return Decision.Allow($"environment '{environment.Name}' is tier 1 (passthrough)");
        }

        // Tiers 2 and 3 show approved projects only: approved as code in a policy file, or by a reviewer.
        string approval;
        string? clientApproval = null;
        if (policy.Approved.Contains(subject.Project))
        {
            approval = "approved by policy";
        }
        else if (review is { Verdict: Verdict.Approved })
        {
            approval = $"approved by reviewer {review.Actor}: {review.Reason}";
            clientApproval = $"approved by a reviewer: {review.Reason}";
        }
        else
        {
            var state = review is { Verdict: Verdict.Deferred } ? "deferred by a reviewer" : "not approved";
            return Decision.Hide(DecisionRule.NotApproved, $"'{subject.Project}' is {state} for environment '{environment.Name}' (tier {(int)environment.Tier})");
        }

        if (environment.Tier == Tier.Reviewed)
        {
            return Decision.Allow(approval, clientApproval);
        }

        // Release vetting arrives with the tier 3 issue; until then tier 3 shows no release.
        return subject.Version is null
            ? Decision.Allow(approval, clientApproval)
            : Decision.Hide(DecisionRule.NotVetted, $"release {subject.Version} of '{subject.Project}' is not vetted for environment '{environment.Name}' (tier 3)");
    }

    /// <summary>True for the exact internal names and for names under an internal prefix (stored as "stem-").</summary>
    public static bool IsInternal(PolicySnapshot policy, string project)
    {
        if (policy.InternalNames.Contains(project))
        {
            return true;
        }

        foreach (var prefix in policy.InternalPrefixes)
        {
            if (project.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
