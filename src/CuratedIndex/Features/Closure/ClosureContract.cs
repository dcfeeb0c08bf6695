namespace CuratedIndex.Features.Closure;

/// <summary>Who asked for a member: the requiring release and the Requires-Dist line as written there.</summary>
public sealed record ClosureEdge(string Project, string Version, string Requirement);

/// <summary>
/// One release in a dependency closure: the root or a dependency, the version chosen for it (the newest release that
/// satisfies every specifier collected for it), the targets that need it, who requires it, and its depth (root 0).
/// </summary>
/// <param name="MetadataSource">Where its Requires-Dist came from: <c>pep658</c>, <c>wheel</c> or <c>sdist</c>; null when it could not be read (see the closure's problems).</param>
public sealed record ClosureMember(
    string Project,
    string Version,
    IReadOnlyList<string> Targets,
    IReadOnlyList<ClosureEdge> RequiredBy,
    int Depth,
    string? MetadataSource);

/// <summary>Why a closure is incomplete: <see cref="ClosureProblemKind"/>, the project it concerns and a one-line message.</summary>
public sealed record ClosureProblem(ClosureProblemKind Kind, string Project, string Message);

public enum ClosureProblemKind
{
    /// <summary>The specifiers collected for a project admit no release (the conflict is named).</summary>
    Conflict,

    /// <summary>Upstream has no such project.</summary>
    NotFound,

    /// <summary>No release satisfies the specifiers on a target (none, or none with a file for it).</summary>
    NoRelease,

    /// <summary>A release's dependencies could not be read (no wheel and no static sdist metadata, a bad archive, upstream down).</summary>
    Metadata,

    /// <summary>A requirement an index cannot serve (a direct URL reference) or that does not parse.</summary>
    Requirement,

    /// <summary>The closure grew past its bound (<see cref="DependencyClosure.MaxMembers"/>).</summary>
    TooLarge,
}

/// <summary>
/// What <c>pip install PROJECT[EXTRAS]==VERSION</c> would most likely install on each of <see cref="Targets"/>: not a
/// backtracking resolver; where specifiers conflict the closure says so. Members are the root first, then by depth and
/// name. Independent of decisions (statuses are added per environment by <see cref="ClosureView"/>).
/// </summary>
public sealed record DependencyClosure(
    string Project,
    string Version,
    IReadOnlyList<string> Extras,
    IReadOnlyList<string> Targets,
    IReadOnlyList<ClosureMember> Members,
    IReadOnlyList<ClosureProblem> Problems,
    DateTime ComputedAt)
{
    public const int MaxMembers = 500;

    public bool IsComplete => Problems.Count == 0;
}

/// <summary>A member's status in one environment, worst first where a member has several.</summary>
public enum MemberStatus
{
    /// <summary>The environment serves this release now.</summary>
    Visible,

    /// <summary>Nobody decided the project yet: "with dependencies" decides it.</summary>
    Pending,

    /// <summary>Approved but this release is not vetted (tier 3): "vet with dependencies" vets it.</summary>
    NotVetted,

    /// <summary>Denied by policy or a reviewer: blocks.</summary>
    Denied,

    /// <summary>Deferred by a reviewer ("not now"): blocks until decided on its own.</summary>
    Deferred,

    /// <summary>An internal name (dependency confusion): blocks.</summary>
    Internal,

    /// <summary>A typosquat finding and no decision of its own: blocks.</summary>
    Typosquat,

    /// <summary>The chosen release carries an anomaly or provenance signal: blocks until decided on its own.</summary>
    Signal,

    /// <summary>The chosen release was rejected for tier 3: blocks.</summary>
    Rejected,

    /// <summary>Hidden for another reason (quarantined upstream, a pin mismatch): blocks; the reason says why.</summary>
    Hidden,
}

/// <summary>A member with its status in one environment, why, and a one-line summary of its evidence.</summary>
/// <param name="Blocks">True when "with dependencies" must refuse until this member is decided on its own.</param>
public sealed record MemberView(ClosureMember Member, MemberStatus Status, string Reason, string Evidence, bool Blocks);

/// <summary>A closure with statuses for one environment: what is left to decide and what blocks deciding it in one step.</summary>
public sealed record ClosureView(DependencyClosure Closure, string Environment, int Tier, IReadOnlyList<MemberView> Members)
{
    /// <summary>Members "with dependencies" would decide (pending, or not vetted in tier 3).</summary>
    public IReadOnlyList<MemberView> Remaining => Members.Where(m => m.Status is MemberStatus.Pending or MemberStatus.NotVetted).ToList();

    /// <summary>Members that must be decided on their own first.</summary>
    public IReadOnlyList<MemberView> Blockers => Members.Where(m => m.Blocks).ToList();
}

/// <summary>A request to decide a project with its dependencies, from the API, the UI or the command line.</summary>
/// <param name="Extras">Extras of the root, as asked (<c>flask[async]</c>).</param>
/// <param name="Criteria">Tier 3 only: the criteria to vet with (default safe-to-deploy).</param>
public sealed record ClosureDecisionRequest(
    string Project,
    string? Version,
    IReadOnlyList<string> Extras,
    string Environment,
    string Reason,
    string Actor,
    string? Criteria = null,
    bool MayBreakGlass = false,
    bool BreakGlass = false);

public enum ClosureDecisionStatus
{
    /// <summary>Every remaining member was decided (or nothing was left).</summary>
    Decided,

    /// <summary>The request is wrong (unknown environment, bad version): 400.</summary>
    Refused,

    /// <summary>Members must be decided on their own first, the closure is incomplete, or a release is not vettable now: 409.</summary>
    Blocked,

    /// <summary>Upstream has no such project or release: 404.</summary>
    NotFound,

    /// <summary>Upstream could not be asked: 502.</summary>
    UpstreamFailed,
}

/// <summary>The outcome: what was decided (project and version, with the decision id), or why nothing was.</summary>
public sealed record ClosureDecisionOutcome(
    ClosureDecisionStatus Status,
    string Message,
    ClosureView? View,
    IReadOnlyList<DecidedMember> Decided,
    IReadOnlyList<string> Blockers);

/// <summary>
/// One decision written by "with dependencies": <paramref name="Action"/> is <c>approve</c> or <c>vet</c>;
/// <paramref name="BreakGlass"/> when an admin's break-glass let a vetting skip the cooldown.
/// </summary>
public sealed record DecidedMember(string Project, string Version, string Action, long DecisionId, bool BreakGlass = false);
