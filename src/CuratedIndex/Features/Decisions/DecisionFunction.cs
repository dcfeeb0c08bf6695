using CuratedIndex.Features.Policies;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.Decisions;

/// <summary>
/// The one answer to "may this environment see this project, release, file?". Simple pages, file
/// downloads, the JSON API and explain all call it, so they cannot disagree. Pure: everything it
/// depends on is an argument.
/// </summary>
public static class DecisionFunction
{
    public static Decision Decide(EnvironmentPolicy environment, PolicySnapshot policy, DecisionSubject subject, UpstreamFacts facts)
    {
        // Deny rules apply in every tier and win over every approval.
        if (policy.Denied.TryGetValue(subject.Project, out var denyReason))
        {
            return Decision.Hide(DecisionRule.Denied, $"denied by policy: {denyReason}");
        }

        // PEP 792: a quarantined project must not offer any distribution, whatever our tier.
        if (string.Equals(facts.ProjectStatus, ProjectStatus.Quarantined, StringComparison.Ordinal))
        {
            return Decision.Hide(DecisionRule.UpstreamQuarantined, "quarantined upstream");
        }

        switch (environment.Tier)
        {
            case Tier.Passthrough:
                return Decision.Allow($"environment '{environment.Name}' is tier 1 (passthrough)");

            case Tier.Reviewed:
                return policy.Approved.Contains(subject.Project)
                    ? Decision.Allow("approved by policy")
                    : Decision.Hide(DecisionRule.NotApproved, $"'{subject.Project}' is not approved for environment '{environment.Name}' (tier 2)");

            default:
                if (!policy.Approved.Contains(subject.Project))
                {
                    return Decision.Hide(DecisionRule.NotApproved, $"'{subject.Project}' is not approved for environment '{environment.Name}' (tier 3)");
                }

                // Release vetting arrives with the tier 3 issue; until then tier 3 shows no release.
                return subject.Version is null
                    ? Decision.Allow("approved by policy")
                    : Decision.Hide(DecisionRule.NotVetted, $"release {subject.Version} of '{subject.Project}' is not vetted for environment '{environment.Name}' (tier 3)");
        }
    }
}
