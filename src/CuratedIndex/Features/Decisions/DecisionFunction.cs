using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
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
    public static Decision Decide(
        EnvironmentPolicy environment,
        PolicySnapshot policy,
        ReviewerDecisions reviews,
        DecisionSubject subject,
        UpstreamFacts facts,
        DecisionSignals? signals = null,
        ReleaseVettings? vettings = null)
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

        // Fail closed: a file that does not name this project and a PEP 440 version cannot be matched to a release, so no
        // review or vetting can be said to cover it (another project's file listed here, a made-up version, an unknown kind).
        if (subject.Filename is not null && ReleaseVettings.NormalizeVersion(subject.Version) is null)
        {
            return Decision.Hide(DecisionRule.Unparseable, $"'{subject.Filename}' does not parse as a distribution of '{subject.Project}' with a PEP 440 version; hidden in tier {(int)environment.Tier}");
        }

        if (environment.Tier == Tier.Reviewed || subject.Version is null)
        {
            // Tier 2 shows every release of an approved project; tier 3 shows an approved project's page, whose releases are decided one by one.
            return Decision.Allow(approval, clientApproval);
        }

        return DecideRelease(environment, vettings ?? ReleaseVettings.None, subject, facts);
    }

    // Tier 3, for an approved project: only vetted releases, and of them only the pinned files with the pinned bytes.
    private static Decision DecideRelease(EnvironmentPolicy environment, ReleaseVettings vettings, DecisionSubject subject, UpstreamFacts facts)
    {
        var release = $"release {subject.Version} of '{subject.Project}'";
        switch (vettings.For(subject.Project, subject.Version!))
        {
            case null:
                return Decision.Hide(DecisionRule.NotVetted, $"{release} is not vetted for environment '{environment.Name}' (tier 3)");
            case { Vetted: false } rejected:
                return Decision.Hide(DecisionRule.Rejected, $"{release} was {rejected.Describe()}", $"{release} was {rejected.DescribeForClients()}");
            case { } vetted when !VettingCriteria.Satisfies(vetted.Criteria!, environment.Criteria):
                return Decision.Hide(DecisionRule.NotVetted, $"{release} is vetted {vetted.Criteria} only; environment '{environment.Name}' requires {environment.Criteria}");
            case { } vetted when subject.Filename is null:
                return Decision.Allow($"{release} is {vetted.Describe()}", $"{release} is {vetted.DescribeForClients()}");
            case { } vetted when !vetted.Files.TryGetValue(subject.Filename, out _):
                return Decision.Hide(DecisionRule.NotPinned, $"'{subject.Filename}' is not among the files {release} was vetted with (added upstream later?); hidden until vetted");
            case { } vetted when facts.FileSha256 == UpstreamFacts.NoSha256:
                return Decision.Hide(DecisionRule.PinMismatch, $"upstream lists '{subject.Filename}' without a sha256, so its bytes cannot be matched to the vetted {vetted.Files[subject.Filename].Sha256}; never served");
            case { } vetted when facts.FileSha256 is { } upstream && !string.Equals(upstream, vetted.Files[subject.Filename].Sha256, StringComparison.OrdinalIgnoreCase):
                return Decision.Hide(DecisionRule.PinMismatch, $"upstream now lists '{subject.Filename}' with sha256 {upstream}, not the vetted {vetted.Files[subject.Filename].Sha256}; never served");
            case { } vetted:
                return Decision.Allow($"'{subject.Filename}' is pinned by sha256 in {release}, {vetted.Describe()}", $"'{subject.Filename}' is pinned in {release}, {vetted.DescribeForClients()}");
        }
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
