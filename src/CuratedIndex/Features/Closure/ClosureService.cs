namespace CuratedIndex.Features.Closure;

/// <summary>A closure with statuses, or why there is none (<see cref="Failure"/> is Refused, NotFound or UpstreamFailed).</summary>
public sealed record ClosureLookup(ClosureView? View, ClosureDecisionStatus Failure, string? Message)
{
    public static ClosureLookup Of(ClosureView view) => new(view, ClosureDecisionStatus.Decided, null);

    public static ClosureLookup Fail(ClosureDecisionStatus status, string message) => new(null, status, message);
}

/// <summary>Computes (once per project, version, extras and targets; then cached) and describes dependency closures.</summary>
public sealed class ClosureService
{
    /// <summary>
    /// The closure of <paramref name="project"/> (normalized) at <paramref name="version"/> (null: the newest release
    /// on the environment's targets) with <paramref name="extras"/>, with each member's status in <paramref name="environment"/>.
    /// </summary>
    public Task<ClosureLookup> ViewAsync(string project, string? version, IReadOnlyList<string> extras, string environment, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>
    /// The view of the closure already computed for <paramref name="project"/>'s newest release (no extras) on the
    /// environment's targets, without asking upstream: null when none is stored yet (a background run computes the
    /// closures of pending review requests). For lists such as the review queue, which must not wait for upstream.
    /// </summary>
    public Task<ClosureView?> StoredViewAsync(string project, string environment, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}

/// <summary>"Approve with dependencies" (tier 2) and "Vet with dependencies" (tier 3): every remaining member in one step, each audited.</summary>
public sealed class ClosureDecisions
{
    /// <summary>Approves every pending project of the closure (the root included); refuses while a member blocks.</summary>
    public Task<ClosureDecisionOutcome> ApproveAsync(ClosureDecisionRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Approves every pending project and vets every chosen release not vetted yet (pinning upstream's files now); refuses while a member blocks or a release may not be vetted now.</summary>
    public Task<ClosureDecisionOutcome> VetAsync(ClosureDecisionRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
