using CuratedIndex.Features.Policies;

namespace CuratedIndex.Features.Decisions;

/// <summary>What is being asked about: a project, optionally one release, optionally one file of it.</summary>
public sealed record DecisionSubject(string Project, string? Version = null, string? Filename = null);

/// <summary>Facts about the subject as upstream states them (PEP 792 status).</summary>
public sealed record UpstreamFacts(string? ProjectStatus = null)
{
    public static UpstreamFacts None { get; } = new();
}

public enum DecisionRule
{
    Allowed,
    Denied,
    UpstreamQuarantined,
    NotApproved,
    NotVetted,
}

/// <summary>Visible or hidden, and why (one sentence a client or reviewer can read).</summary>
public sealed record Decision(bool Visible, DecisionRule Rule, string Reason)
{
    public static Decision Allow(string reason) => new(true, DecisionRule.Allowed, reason);
    public static Decision Hide(DecisionRule rule, string reason) => new(false, rule, reason);
}
