using System.Collections.Frozen;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Features.Policies;

/// <summary>1 passthrough, 2 reviewed projects, 3 vetted releases and uploaders.</summary>
public enum Tier
{
    Passthrough = 1,
    Reviewed = 2,
    Vetted = 3,
}

/// <summary>Who may read an environment's index: everyone, or callers with a token.</summary>
public enum IndexAccessMode
{
    Open,
    Token,
}

/// <summary>What an environment does with a typosquat finding: show it to reviewers only, or block the project.</summary>
public enum TyposquatMode
{
    Warn,
    Block,
}

/// <param name="Criteria">What a release's vetting must vouch for to be shown in tier 3 (<c>safe-to-deploy</c> by default).</param>
public sealed record EnvironmentPolicy(
    string Name,
    Tier Tier,
    TimeSpan? Cooldown,
    IndexAccessMode Access = IndexAccessMode.Open,
    TyposquatMode Typosquat = TyposquatMode.Warn,
    string Criteria = Releases.VettingCriteria.SafeToDeploy)
{
    /// <summary>
    /// The interpreters and platforms this environment installs on (<c>targets:</c>, e.g. "3.11 manylinux_2_28_x86_64"), which
    /// dependency closures are computed for; <see cref="Protocol.Pep508.PythonTarget.Default"/> when the policy names none.
    /// </summary>
    public IReadOnlyList<string> Targets { get; init; } = Protocol.Pep508.PythonTarget.Default;
}

/// <summary>
/// The merged content of every policy file, immutable. Names are PEP 503 normalized; matching is exact,
/// never by prefix (except <see cref="InternalPrefixes"/>, which are prefixes by definition).
/// </summary>
public sealed record PolicySnapshot(
    FrozenDictionary<string, EnvironmentPolicy> Environments,
    FrozenSet<string> Approved,
    FrozenDictionary<string, string> Denied,
    FrozenDictionary<string, string> Vet,
    FrozenDictionary<string, IReadOnlyList<VettedPublisher>> Publishers,
    FrozenSet<string> InternalNames,
    IReadOnlyList<string> InternalPrefixes)
{
    /// <summary><c>cooldown:</c> per project (normalized name), overriding the environments' cooldown.</summary>
    public FrozenDictionary<string, TimeSpan> Cooldowns { get; init; } = FrozenDictionary<string, TimeSpan>.Empty;

    /// <summary><c>vet-cutoff:</c> no release first seen after this moment (UTC) is vetted by policy or automatically.</summary>
    public DateTime? VetCutoff { get; init; }

    /// <summary>
    /// The cooldown a release of <paramref name="project"/> must pass before policy or automatic vetting, and before a
    /// reviewer vets it without break-glass: the project's own <c>cooldown:</c> when set, else the longest cooldown of the
    /// tier 3 environments (a vetting holds for all of them), else none.
    /// </summary>
    public TimeSpan CooldownFor(string project)
    {
        if (Cooldowns.TryGetValue(project, out var own))
        {
            return own;
        }

        var longest = TimeSpan.Zero;
        foreach (var environment in Environments.Values)
        {
            if (environment.Tier == Tier.Vetted && environment.Cooldown is { } cooldown && cooldown > longest)
            {
                longest = cooldown;
            }
        }

        return longest;
    }

    /// <summary>
    /// The publishers <c>publishers:</c> vets for <paramref name="project"/> (any spelling of the name; normalized here), in
    /// file order; empty when none. Only these, or ones a reviewer vetted, let a release be vetted automatically.
    /// </summary>
    public IReadOnlyList<VettedPublisher> PublishersFor(string project) =>
        Publishers.TryGetValue(Protocol.ProjectName.Normalize(project), out var publishers) ? publishers : [];

    public static PolicySnapshot Empty { get; } = new(
        FrozenDictionary<string, EnvironmentPolicy>.Empty,
        FrozenSet<string>.Empty,
        FrozenDictionary<string, string>.Empty,
        FrozenDictionary<string, string>.Empty,
        FrozenDictionary<string, IReadOnlyList<VettedPublisher>>.Empty,
        FrozenSet<string>.Empty,
        []);
}
