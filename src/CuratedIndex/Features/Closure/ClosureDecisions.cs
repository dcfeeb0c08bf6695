using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Closure;

/// <summary>
/// "Approve with dependencies" (tier 2) and "Vet with dependencies" (tier 3): every remaining member of a closure in one
/// step, each with its own decision and audit record ("dependency of flask 3.0.3, approved by alice: …"). A member that is
/// denied, deferred, internal, a typosquat finding or carries a signal is never decided here: it is named, and nothing is
/// decided until it was decided on its own. An incomplete closure (a conflict, unreadable metadata) decides nothing either:
/// what pip would install is not known.
/// </summary>
/// <remarks>
/// Everything one call decides is written in one transaction with its audit records, and only when no decision on a member
/// was written since the statuses were described (on this node or another): a reviewer's denial made a moment ago is never
/// overwritten by someone else's "with dependencies".
/// </remarks>
public sealed class ClosureDecisions(ClosureService closures, ReviewQueue queue, ReleaseVetting vetting, CurationStore curations, AuditLog audit)
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

        var known = Known();
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

        var written = await WriteAsync(request, view, known, pending, [], cancellationToken);
        if (written is null)
        {
            return await ChangedMeanwhileAsync(request, view);
        }

        var decided = written.Select(d => new DecidedMember(d.Project, pending.First(m => m.Member.Project == d.Project).Member.Version, ApproveAction, d.Id)).ToList();
        return new ClosureDecisionOutcome(ClosureDecisionStatus.Decided, $"approved {decided.Count} project(s) of {Root(view)}'s closure", await RefreshedAsync(request, view), decided, []);
    }

    /// <summary>
    /// Approves every pending project and vets every chosen release not vetted yet (pinning the files upstream lists now,
    /// subject to cooldown and signals as any vetting is); refuses while a member blocks or a release may not be vetted
    /// now. Every release is checked before anything is written, and everything is written in one transaction.
    /// </summary>
    public async Task<ClosureDecisionOutcome> VetAsync(ClosureDecisionRequest request, CancellationToken cancellationToken)
    {
        if (curations.Current.Policy.Environments.TryGetValue(request.Environment, out var environment) && environment.Tier != Tier.Vetted)
        {
            return Fail(ClosureDecisionStatus.Refused, $"environment '{request.Environment}' is tier {(int)environment.Tier}; vetting with dependencies needs a tier 3 environment (use approve with dependencies)");
        }

        var known = Known();
        var (view, refusal) = await ViewAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Blocked(view!, []) is { } incomplete)
        {
            return incomplete;
        }

        // Every release is checked first, and its decision prepared. The check also records a release's first sight and
        // its anomaly signals, so the statuses are described again afterwards: a signal found now blocks this call, named
        // with the rest, instead of surfacing only on the next attempt after the reviewer cleared what this one named.
        var criteria = request.Criteria ?? environment!.Criteria;
        var notNow = new Dictionary<(string, string), string>();
        var prepared = new Dictionary<(string, string), ReleaseDecision>();
        foreach (var member in ToDecide(view!))
        {
            var (outcome, decision) = await vetting.PrepareAsync(VetRequestFor(view!, member.Member, request, criteria), cancellationToken);
            if (decision is null)
            {
                notNow[(member.Member.Project, member.Member.Version)] = $"{member.Member.Project} {member.Member.Version}: {outcome.Message}";
            }
            else
            {
                prepared[(member.Member.Project, member.Member.Version)] = decision;
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

        if (toVet.Any(m => !prepared.ContainsKey((m.Member.Project, m.Member.Version))))
        {
            return await ChangedMeanwhileAsync(request, view);
        }

        var releases = toVet.Select(m => prepared[(m.Member.Project, m.Member.Version)]).ToList();
        var pending = PendingProjects(view);
        var written = await WriteAsync(request, view, known, pending, releases, cancellationToken);
        if (written is null)
        {
            return await ChangedMeanwhileAsync(request, view);
        }

        var decided = written.Select(d => new DecidedMember(d.Project, pending.First(m => m.Member.Project == d.Project).Member.Version, ApproveAction, d.Id))
            .Concat(releases.Select(r => new DecidedMember(r.Project, r.Version, VetAction, r.Id, r.BreakGlass)))
            .ToList();
        return new ClosureDecisionOutcome(ClosureDecisionStatus.Decided, $"vetted {releases.Count} release(s) of {Root(view)}'s closure", await RefreshedAsync(request, view), decided, []);
    }

    // Approvals of the pending projects and the prepared vettings, with their audit records, in one transaction; null
    // (nothing written) when a member was decided since the statuses were described. After the commit, every node's
    // bookkeeping: logs, pinned bytes kept, the curation refreshed.
    private async Task<IReadOnlyList<ProjectDecision>?> WriteAsync(
        ClosureDecisionRequest request,
        ClosureView view,
        (long Projects, long Releases) known,
        List<MemberView> pending,
        List<ReleaseDecision> releases,
        CancellationToken cancellationToken)
    {
        var approvals = queue.Stage(pending.Select(m => (m.Member.Project, ReasonFor(view, m.Member, request, "approved"))).ToList(), Verdict.Approved, request.Actor);
        var written = await audit.WriteAsync(async db =>
        {
            if (await DecidedSinceAsync(db, view, known, cancellationToken) is not null)
            {
                return ((IReadOnlyList<ProjectDecision>?)null, (IReadOnlyList<AuditEntry>)[]);
            }

            var (decisions, entries) = pending.Count > 0 ? await approvals.AddAsync(db, cancellationToken) : ([], []);
            return (decisions, [.. entries, .. releases.Select(r => ReleaseVetting.Stage(db, r))]);
        }, cancellationToken);
        if (written is null)
        {
            return null;
        }

        await approvals.CommittedAsync(written);
        foreach (var release in releases)
        {
            vetting.Committed(release);
        }

        return written;
    }

    // The newest decisions this node knew of when the statuses were described.
    private (long Projects, long Releases) Known() => (curations.Current.Reviews.LastDecisionId, curations.Current.Vettings.LastDecisionId);

    // Inside the write transaction: a decision on a member's project or release written since the statuses were described.
    private static async Task<string?> DecidedSinceAsync(CuratedIndexDbContext db, ClosureView view, (long Projects, long Releases) known, CancellationToken cancellationToken)
    {
        var projects = view.Members.Select(m => m.Member.Project).Distinct(StringComparer.Ordinal).ToList();
        return await db.ProjectDecisions.Where(d => d.Id > known.Projects && projects.Contains(d.Project)).Select(d => d.Project).FirstOrDefaultAsync(cancellationToken)
            ?? await db.ReleaseDecisions.Where(d => d.Id > known.Releases && projects.Contains(d.Project)).Select(d => d.Project).FirstOrDefaultAsync(cancellationToken);
    }

    private async Task<ClosureDecisionOutcome> ChangedMeanwhileAsync(ClosureDecisionRequest request, ClosureView view)
    {
        await curations.RefreshAsync(CancellationToken.None);
        return new ClosureDecisionOutcome(
            ClosureDecisionStatus.Blocked,
            $"a member of {Root(view)}'s closure was decided (or its releases changed) while this was being decided; nothing was decided: look at the statuses again",
            await RefreshedAsync(request, view),
            [],
            ["decided meanwhile: look again"]);
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

    // What this action decides: pending members (not vetted ones, in tier 3). A flagged member, the root included, blocks
    // instead: it is decided on its own first.
    private static List<MemberView> ToDecide(ClosureView view) =>
        view.Members.Where(m => m.Status is MemberStatus.Pending or MemberStatus.NotVetted).ToList();

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

    private static VetRequest VetRequestFor(ClosureView view, ClosureMember member, ClosureDecisionRequest request, string criteria) =>
        new(member.Project, member.Version, criteria, ReasonFor(view, member, request, "vetted"), request.Actor, VettingHow.Reviewer, MayBreakGlass: request.MayBreakGlass, BreakGlass: request.BreakGlass);

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
