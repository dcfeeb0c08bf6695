using CuratedIndex.Features.Policies;

namespace CuratedIndex.Features.Decisions;

/// <summary>What is being asked about: a project, optionally one release, optionally one file of it.</summary>
public sealed record DecisionSubject(string Project, string? Version = null, string? Filename = null);

/// <summary>
/// Facts about the subject as upstream states them: the project's PEP 792 status and, for a file, the sha256 upstream lists
/// for it now (null when not known: upstream no longer lists the file, or the caller does not look; <see cref="NoSha256"/>
/// when upstream lists the file without one).
/// </summary>
public sealed record UpstreamFacts(string? ProjectStatus = null, string? FileSha256 = null)
{
    /// <summary>The file is listed with no sha256: its bytes cannot be matched to a pin, so tier 3 hides it (fail closed).</summary>
    public const string NoSha256 = "none";

    public static UpstreamFacts None { get; } = new();

    /// <summary>These facts for a file as upstream's listing gives it, saying so when the listing has no sha256.</summary>
    public UpstreamFacts ForListedFile(string? sha256) => this with { FileSha256 = sha256 ?? NoSha256 };
}

/// <summary>
/// A typosquat finding about the subject's name: the project it imitates, a score (0..1, higher is more suspicious),
/// how the lookalike was made, and the reasons in words.
/// </summary>
public sealed record TyposquatSignal(string Imitated, double Score, string Kind, string Reasons)
{
    public string Describe() =>
        $"looks like '{Imitated}' (typosquat score {Score.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}): {Reasons}";
}

/// <summary>What is known about the subject besides the policy, reviews and upstream: today, a typosquat finding.</summary>
public sealed record DecisionSignals(TyposquatSignal? Typosquat = null)
{
    public static DecisionSignals None { get; } = new();
}

public enum DecisionRule
{
    Allowed,
    Denied,
    Internal,
    UpstreamQuarantined,
    Typosquat,
    NotApproved,
    NotVetted,

    /// <summary>A file whose name does not parse to this project and a PEP 440 version (tiers 2 and 3).</summary>
    Unparseable,

    /// <summary>A release a reviewer rejected for tier 3.</summary>
    Rejected,

    /// <summary>A file of a vetted release that its vetting did not pin (added upstream later).</summary>
    NotPinned,

    /// <summary>A pinned file whose upstream sha256 is not the pinned one.</summary>
    PinMismatch,
}

/// <summary>
/// Visible or hidden, and why: <paramref name="Reason"/> for reviewers, explain and the UI (it may name the reviewer who
/// decided); <paramref name="ClientReason"/>, when set, the same sentence for index clients without any reviewer's name.
/// </summary>
public sealed record Decision(bool Visible, DecisionRule Rule, string Reason, string? ClientReason = null)
{
    public static Decision Allow(string reason, string? clientReason = null) => new(true, DecisionRule.Allowed, reason, clientReason);
    public static Decision Hide(DecisionRule rule, string reason, string? clientReason = null) => new(false, rule, reason, clientReason);

    /// <summary>This decision as an index client may read it: why a project is hidden, never who decided it.</summary>
    public Decision ForIndexClients() => ClientReason is null ? this : this with { Reason = ClientReason, ClientReason = null };
}
