using System.Security.Claims;
using CuratedIndex.Features.Closure;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>One row of the Dependencies table: a member, indented under the member that required it first.</summary>
public sealed record ClosureRow(MemberView Member, int Indent);

/// <summary>The closure as a small tree: each member under the member that required it first (its first edge).</summary>
public static class ClosureTree
{
    /// <summary>
    /// Members in tree order: a member's children follow it (by name), one indent deeper. A member whose first requirer is
    /// not in the closure (or that sits on a cycle) is listed after the tree at its own depth, so none is ever left out.
    /// </summary>
    public static IReadOnlyList<ClosureRow> Rows(IReadOnlyList<MemberView> members)
    {
        var projects = members.Select(m => m.Member.Project).ToHashSet(StringComparer.Ordinal);
        bool HasParent(MemberView m) => m.Member.Depth > 0 && m.Member.RequiredBy.Count > 0 && projects.Contains(m.Member.RequiredBy[0].Project);
        var children = members.Where(HasParent)
            .OrderBy(m => m.Member.Project, StringComparer.Ordinal)
            .ToLookup(m => m.Member.RequiredBy[0].Project, StringComparer.Ordinal);

        var rows = new List<ClosureRow>(members.Count);
        var placed = new HashSet<MemberView>();
        var stack = new Stack<(MemberView Member, int Indent)>();
        foreach (var root in members.Where(m => !HasParent(m)))
        {
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (member, indent) = stack.Pop();
                if (!placed.Add(member))
                {
                    continue;
                }

                rows.Add(new ClosureRow(member, indent));
                foreach (var child in children[member.Member.Project].Reverse())
                {
                    stack.Push((child, indent + 1));
                }
            }
        }

        rows.AddRange(members.Where(m => !placed.Contains(m)).Select(m => new ClosureRow(m, m.Member.Depth)));
        return rows;
    }
}

/// <summary>
/// What the Dependencies section of the project and release pages shows: the environments to choose from, the chosen
/// one, its closure with statuses (or why there is none), and after a "with dependencies" form, the outcome.
/// </summary>
public sealed record ClosureSection(
    string Project,
    string? Version,
    string? Extras,
    IReadOnlyList<EnvironmentPolicy> Environments,
    EnvironmentPolicy? Environment,
    string? EnvironmentProblem,
    ClosureView? View,
    string? Problem,
    bool CanDecide,
    bool IsAdmin)
{
    public IReadOnlyList<ClosureRow> Rows { get; } = View is null ? [] : ClosureTree.Rows(View.Members);

    /// <summary>The outcome of the form just posted (decided, or refused with blockers); null on a plain GET.</summary>
    public ClosureDecisionOutcome? Outcome { get; init; }

    /// <summary>Why the form just posted was not even tried (no reason, unknown environment, bad criteria).</summary>
    public string? FormProblem { get; init; }

    /// <summary>What the form typed, shown again when it was refused.</summary>
    public string? Reason { get; init; }

    public bool Vets => Environment?.Tier == Tier.Vetted;

    /// <summary>
    /// How many projects (tier 2) or releases (tier 3) the form decides, as <see cref="ClosureDecisions"/> does: the
    /// members pending or not vetted (<see cref="ClosureView.Remaining"/>), a project once.
    /// </summary>
    public int WillDecide => View is null ? 0
        : View.Remaining
            .Select(m => Vets ? $"{m.Member.Project} {m.Member.Version}" : m.Member.Project)
            .Distinct(StringComparer.Ordinal)
            .Count();
}

/// <summary>The form fields of "Approve with dependencies" / "Vet with dependencies", as posted (extras comma-separated).</summary>
public sealed record ClosureForm(string? Environment, string? Version, string? Extras, string? Reason, string? Criteria, bool BreakGlass);

/// <summary>
/// Loads the Dependencies section for a project or release page and runs its form: tier 2 environments approve with
/// dependencies, tier 3 environments vet with dependencies (<see cref="ClosureDecisions"/>, which writes one audited
/// decision per member). The caller checks the reviewer role first.
/// </summary>
internal sealed class ClosureReview(ClosureService closures, ClosureDecisions decisions, PolicyStore policies)
{
    /// <summary>The environments a closure is reviewed for: tier 2 and 3, by tier then name.</summary>
    public IReadOnlyList<EnvironmentPolicy> ReviewedEnvironments() =>
        policies.Current.Environments.Values.Where(e => e.Tier >= Tier.Reviewed)
            .OrderBy(e => e.Tier).ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// The section for <paramref name="version"/> (null: the newest release) with <paramref name="extras"/> (comma-separated)
    /// in <paramref name="environment"/> (null or unknown: the first reviewed one, and <see cref="ClosureSection.EnvironmentProblem"/> says so).
    /// </summary>
    public async Task<ClosureSection> LoadAsync(string project, string? version, string? environment, string? extras, bool canDecide, bool isAdmin, CancellationToken cancellationToken)
    {
        var reviewed = ReviewedEnvironments();
        var first = reviewed.Count > 0 ? reviewed[0] : null;
        var chosen = string.IsNullOrEmpty(environment) ? first : reviewed.FirstOrDefault(e => e.Name == environment);
        var environmentProblem = chosen is not null || string.IsNullOrEmpty(environment) ? null
            : $"'{ReviewApi.Printable(environment)}' is not an environment of tier 2 or 3";
        chosen ??= first;
        if (chosen is null)
        {
            return new ClosureSection(project, version, extras, reviewed, null, environmentProblem, null, "no environment of tier 2 or 3 in the policy: nothing to review dependencies for", canDecide, isAdmin);
        }

        var lookup = await closures.ViewAsync(project, version, ClosureApi.SplitExtras(extras), chosen.Name, cancellationToken);
        return new ClosureSection(project, version, extras, reviewed, chosen, environmentProblem, lookup.View, lookup.View is null ? lookup.Message ?? "no closure" : null, canDecide, isAdmin);
    }

    /// <summary>
    /// Runs the form for <paramref name="project"/>: the problem with the form (400, nothing tried), or the outcome and
    /// the HTTP status it maps to (200 decided, 400 refused, 404 not found upstream, 409 blocked, 502 upstream failed).
    /// </summary>
    public async Task<(ClosureDecisionOutcome? Outcome, string? Problem, int Status)> DecideAsync(
        string project, ClosureForm form, ClaimsPrincipal user, bool isAdmin, CancellationToken cancellationToken)
    {
        var environment = ReviewedEnvironments().FirstOrDefault(e => e.Name == form.Environment);
        var problem = environment is null ? "choose an environment of tier 2 or 3" : ReviewApi.ReasonProblem(form.Reason);
        problem ??= environment!.Tier == Tier.Vetted && form.Criteria is { Length: > 0 } && !VettingCriteria.IsKnown(form.Criteria)
            ? $"choose {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}"
            : null;
        problem ??= form.Version is { Length: > 0 } v ? ReleasesApi.VersionProblem(v) : null;
        if (problem is not null)
        {
            return (null, problem, StatusCodes.Status400BadRequest);
        }

        var request = new ClosureDecisionRequest(
            project,
            form.Version is { Length: > 0 } version ? version : null,
            ClosureApi.SplitExtras(form.Extras),
            environment!.Name,
            form.Reason!.Trim(),
            user.Identity!.Name!,
            environment.Tier == Tier.Vetted ? (form.Criteria is { Length: > 0 } criteria ? criteria : environment.Criteria) : null,
            // Break-glass is an admin's, and only when asked for, as on the release page's vet form.
            MayBreakGlass: isAdmin,
            BreakGlass: form.BreakGlass);
        var outcome = environment.Tier == Tier.Vetted
            ? await decisions.VetAsync(request, cancellationToken)
            : await decisions.ApproveAsync(request, cancellationToken);
        var status = outcome.Status switch
        {
            ClosureDecisionStatus.Decided => StatusCodes.Status200OK,
            ClosureDecisionStatus.Blocked => StatusCodes.Status409Conflict,
            ClosureDecisionStatus.NotFound => StatusCodes.Status404NotFound,
            ClosureDecisionStatus.UpstreamFailed => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status400BadRequest,
        };
        return (outcome, null, status);
    }
}
