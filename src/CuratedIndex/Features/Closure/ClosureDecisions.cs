using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;

namespace CuratedIndex.Features.Closure;

/// <summary>
/// "Approve with dependencies" (tier 2) and "Vet with dependencies" (tier 3): every remaining member of a closure in one
/// step, each with its own decision and audit record ("dependency of flask 3.0.3, approved by alice: …"). A member that is
/// denied, deferred, internal, a typosquat finding or carries a signal is never decided here: it is named, and nothing is
/// decided until it was decided on its own. An incomplete closure (a conflict, unreadable metadata) decides nothing either:
/// what pip would install is not known.
/// </summary>
public sealed class ClosureDecisions(ClosureService closures, ReviewQueue queue, ReleaseVetting vetting, CurationStore curations)
{
    public const string ApproveAction = "approve";
    public const string VetAction = "vet";

    /// <summary>Approves every pending project of the closure (the root included); refuses while a member blocks.</summary>
    public async Task<ClosureDecisionOutcome> ApproveAsync(ClosureDecisionRequest request, CancellationToken cancellationToken)
    {
        // Tier 1 shows every project: its statuses would all read visible, and "nothing left to approve" would mislead.
        if (curations.Current.Policy.Environments.TryGetValue(request.Environment, out var environment) && environment.Tier == Tier.Passthrough)
        {
            return Fail(ClosureDecisionStatus.Refused, $"environment '{request.Environment}' is tier 1 (passthrough) and shows every project; approve with dependencies for a tier 2 or 3 environment");
        }

        var (view, refusal) = await ViewAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var curation = curations.Current;
        // Members of approved projects (a release not vetted yet, a signal) are tier 3's business, not approval's.
        var blockers = view!.Blockers.Where(m => !curation.IsApproved(m.Member.Project)).ToList();
        if (Blocked(view, blockers) is { } blocked)
        {
            return blocked;
        }

        var pending = PendingProjects(view);
        if (pending.Count == 0)
        {
            return new ClosureDecisionOutcome(ClosureDecisionStatus.Decided, $"nothing left to approve: every project of {Root(view)}'s closure is approved", view, [], []);
        }

        var results = await queue.DecideEachAsync(pending.Select(m => (m.Member.Project, ReasonFor(view, m.Member, request, "approved"))).ToList(), Verdict.Approved, request.Actor, cancellationToken);
        var decided = results.Select(r => new DecidedMember(r.Project, pending.First(m => m.Member.Project == r.Project).Member.Version, ApproveAction, r.DecisionId)).ToList();
        return new ClosureDecisionOutcome(ClosureDecisionStatus.Decided, $"approved {decided.Count} project(s) of {Root(view)}'s closure", await RefreshedAsync(request, view), decided, []);
    }

    /// <summary>
    /// Approves every pending project and vets every chosen release not vetted yet (pinning the files upstream lists now,
    /// subject to cooldown and signals as any vetting is); refuses while a member blocks or a release may not be vetted
    /// now. Every release is checked before anything is written.
    /// </summary>
    public async Task<ClosureDecisionOutcome> VetAsync(ClosureDecisionRequest request, CancellationToken cancellationToken)
    {
        if (curations.Current.Policy.Environments.TryGetValue(request.Environment, out var environment) && environment.Tier != Tier.Vetted)
        {
            return Fail(ClosureDecisionStatus.Refused, $"environment '{request.Environment}' is tier {(int)environment.Tier}; vetting with dependencies needs a tier 3 environment (use approve with dependencies)");
        }

        var (view, refusal) = await ViewAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Blocked(view!, []) is { } incomplete)
        {
            return incomplete;
        }

        // Every release is checked first (a dry run). The check also records a release's first sight and its anomaly
        // signals, so the statuses are described again afterwards: a signal found now blocks this call, named with the
        // rest, instead of surfacing only on the next attempt after the reviewer cleared what this one named.
        var criteria = request.Criteria ?? environment!.Criteria;
        var notNow = new Dictionary<(string, string), string>();
        foreach (var member in ToDecide(view!))
        {
            var outcome = await vetting.VetAsync(VetRequestFor(view!, member.Member, request, criteria, dryRun: true), cancellationToken);
            if (outcome.Status != VetStatus.Vetted)
            {
                notNow[(member.Member.Project, member.Member.Version)] = $"{member.Member.Project} {member.Member.Version}: {outcome.Message}";
            }
        }

        (view, refusal) = await ViewAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var toVet = ToDecide(view!);
        var waiting = toVet.Select(m => notNow.GetValueOrDefault((m.Member.Project, m.Member.Version))).OfType<string>().ToList();
        if (Blocked(view!, view!.Blockers) is { } blocked)
        {
            return blocked with { Blockers = [.. blocked.Blockers, .. waiting] };
        }

        if (waiting.Count > 0)
        {
            return new ClosureDecisionOutcome(ClosureDecisionStatus.Blocked, $"{waiting.Count} release(s) of {Root(view)}'s closure may not be vetted now; nothing was decided", view, [], waiting);
        }

        var decided = new List<DecidedMember>();
        var pending = PendingProjects(view);
        if (pending.Count > 0)
        {
            var approved = await queue.DecideEachAsync(pending.Select(m => (m.Member.Project, ReasonFor(view, m.Member, request, "approved"))).ToList(), Verdict.Approved, request.Actor, cancellationToken);
            decided.AddRange(approved.Select(r => new DecidedMember(r.Project, pending.First(m => m.Member.Project == r.Project).Member.Version, ApproveAction, r.DecisionId)));
        }

        var failed = new List<string>();
        foreach (var member in toVet)
        {
            var outcome = await vetting.VetAsync(VetRequestFor(view, member.Member, request, criteria, dryRun: false), cancellationToken);
            if (outcome.Status == VetStatus.Vetted && outcome.Verdict is { } verdict)
            {
                decided.Add(new DecidedMember(member.Member.Project, member.Member.Version, VetAction, verdict.DecisionId));
            }
            else
            {
                // Checked a moment ago: only a change meanwhile (a decision on another node, upstream) gets here.
                failed.Add($"{member.Member.Project} {member.Member.Version}: {outcome.Message}");
            }
        }

        var refreshed = await RefreshedAsync(request, view);
        return failed.Count == 0
            ? new ClosureDecisionOutcome(ClosureDecisionStatus.Decided, $"vetted {decided.Count(d => d.Action == VetAction)} release(s) of {Root(view)}'s closure", refreshed, decided, [])
            : new ClosureDecisionOutcome(ClosureDecisionStatus.Blocked, $"{failed.Count} release(s) changed while they were vetted and were not vetted; the others were", refreshed, decided, failed);
    }

    private async Task<(ClosureView? View, ClosureDecisionOutcome? Refusal)> ViewAsync(ClosureDecisionRequest request, CancellationToken cancellationToken)
    {
        if (ReviewApi.ReasonProblem(request.Reason) is { } problem)
        {
            return (null, Fail(ClosureDecisionStatus.Refused, problem));
        }

        var lookup = await closures.ViewAsync(request.Project, request.Version, request.Extras, request.Environment, cancellationToken);
        return lookup.View is null ? (null, Fail(lookup.Failure, lookup.Message!)) : (lookup.View, null);
    }

    private static ClosureDecisionOutcome? Blocked(ClosureView view, IReadOnlyList<MemberView> blockers)
    {
        if (!view.Closure.IsComplete)
        {
            var problems = view.Closure.Problems.Select(p => p.Message).ToList();
            return new ClosureDecisionOutcome(ClosureDecisionStatus.Blocked, $"{Root(view)}'s closure is incomplete ({problems.Count} problem(s)); what pip would install is not known, so nothing was decided", view, [], problems);
        }

        if (blockers.Count == 0)
        {
            return null;
        }

        var named = blockers.Select(b => $"{b.Member.Project} {b.Member.Version}: {StatusText.Of(b.Status)}: {b.Reason}").ToList();
        return new ClosureDecisionOutcome(
            ClosureDecisionStatus.Blocked,
            $"{blockers.Count} member(s) of {Root(view)}'s closure must be decided on their own first: {string.Join(", ", blockers.Select(b => b.Member.Project).Distinct())}; nothing was decided",
            view,
            [],
            named);
    }

    // What this action decides: pending members, and the root unless it blocks (the reviewer names it: a deferral, a
    // reviewer's denial, a finding or a signal on it is what they are deciding).
    private static List<MemberView> ToDecide(ClosureView view) =>
        view.Members.Where(m => m.Status is MemberStatus.Pending or MemberStatus.NotVetted || (IsRoot(view, m.Member) && !m.Blocks && m.Status != MemberStatus.Visible)).ToList();

    // One approval per project: a project needed at two versions (two targets) is approved once.
    private List<MemberView> PendingProjects(ClosureView view) =>
        ToDecide(view)
            .Where(m => !curations.Current.IsApproved(m.Member.Project))
            .GroupBy(m => m.Member.Project, StringComparer.Ordinal)
            .Select(g => g.First())
            .ToList();

    private static bool IsRoot(ClosureView view, ClosureMember member) => member.Depth == 0 && member.Project == view.Closure.Project;

    private static string ReasonFor(ClosureView view, ClosureMember member, ClosureDecisionRequest request, string verb) =>
        IsRoot(view, member)
            ? request.Reason
            : $"dependency of {Root(view)}, {verb} by {request.Actor}: {request.Reason}";

    private static VetRequest VetRequestFor(ClosureView view, ClosureMember member, ClosureDecisionRequest request, string criteria, bool dryRun) =>
        new(member.Project, member.Version, criteria, ReasonFor(view, member, request, "vetted"), request.Actor, VettingHow.Reviewer, MayBreakGlass: request.MayBreakGlass, BreakGlass: request.BreakGlass, DryRun: dryRun);

    private async Task<ClosureView> RefreshedAsync(ClosureDecisionRequest request, ClosureView before) =>
        (await closures.ViewAsync(request.Project, request.Version, request.Extras, request.Environment, CancellationToken.None)).View ?? before;

    private static string Root(ClosureView view) => $"{view.Closure.Project} {view.Closure.Version}";

    private static ClosureDecisionOutcome Fail(ClosureDecisionStatus status, string message) => new(status, message, null, [], []);
}

/// <summary>The words for <see cref="MemberStatus"/> in the API, the UI and messages.</summary>
public static class StatusText
{
    public static string Of(MemberStatus status) => status switch
    {
        MemberStatus.Visible => "visible",
        MemberStatus.Pending => "pending",
        MemberStatus.NotVetted => "not-vetted",
        MemberStatus.Denied => "denied",
        MemberStatus.Deferred => "deferred",
        MemberStatus.Internal => "internal",
        MemberStatus.Typosquat => "typosquat",
        MemberStatus.Signal => "signal",
        MemberStatus.Rejected => "rejected",
        _ => "hidden",
    };
}
