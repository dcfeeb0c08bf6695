using System.Collections.Frozen;

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

public sealed record EnvironmentPolicy(string Name, Tier Tier, TimeSpan? Cooldown, IndexAccessMode Access = IndexAccessMode.Open, TyposquatMode Typosquat = TyposquatMode.Warn);

/// <summary>
/// The merged content of every policy file, immutable. Names are PEP 503 normalized; matching is exact,
/// never by prefix (except <see cref="InternalPrefixes"/>, which are prefixes by definition).
/// </summary>
public sealed record PolicySnapshot(
    FrozenDictionary<string, EnvironmentPolicy> Environments,
    FrozenSet<string> Approved,
    FrozenDictionary<string, string> Denied,
    FrozenDictionary<string, string> Vet,
    FrozenDictionary<string, IReadOnlyList<string>> Publishers,
    FrozenSet<string> InternalNames,
    IReadOnlyList<string> InternalPrefixes)
{
    public static PolicySnapshot Empty { get; } = new(
        FrozenDictionary<string, EnvironmentPolicy>.Empty,
        FrozenSet<string>.Empty,
        FrozenDictionary<string, string>.Empty,
        FrozenDictionary<string, string>.Empty,
        FrozenDictionary<string, IReadOnlyList<string>>.Empty,
        FrozenSet<string>.Empty,
        []);
}
