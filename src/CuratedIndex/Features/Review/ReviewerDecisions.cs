using System.Collections.Frozen;

namespace CuratedIndex.Features.Review;

/// <summary>A reviewer's verdict on a project. Pending means no one has decided yet; deferred means "not now".</summary>
public enum Verdict
{
    Pending,
    Approved,
    Denied,
    Deferred,
}

public static class VerdictText
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Deferred = "deferred";

    public static string Of(Verdict verdict) => verdict switch
    {
        Verdict.Approved => Approved,
        Verdict.Denied => Denied,
        Verdict.Deferred => Deferred,
        _ => Pending,
    };

    public static Verdict Parse(string text) => text switch
    {
        Approved => Verdict.Approved,
        Denied => Verdict.Denied,
        Deferred => Verdict.Deferred,
        _ => Verdict.Pending,
    };

    public static bool TryParse(string? text, out Verdict verdict)
    {
        verdict = Parse(text ?? "");
        return text is Pending or Approved or Denied or Deferred;
    }
}

/// <summary>The verdict in force for one project: the newest reviewer decision.</summary>
public sealed record ReviewerVerdict(Verdict Verdict, string Reason, string Actor, DateTime DecidedAt, long DecisionId);

/// <summary>
/// The reviewer decisions in force, one per project (normalized name), immutable. An input of the decision
/// function next to the policy snapshot; a new snapshot replaces the old one whenever a decision is made.
/// </summary>
public sealed record ReviewerDecisions(FrozenDictionary<string, ReviewerVerdict> ByProject, long LastDecisionId)
{
    public static ReviewerDecisions None { get; } = new(FrozenDictionary<string, ReviewerVerdict>.Empty, 0);

    public ReviewerVerdict? For(string project) => ByProject.TryGetValue(project, out var verdict) ? verdict : null;
}
