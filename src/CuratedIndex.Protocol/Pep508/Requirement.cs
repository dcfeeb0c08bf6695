using System.Diagnostics.CodeAnalysis;


namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// One PEP 508 requirement as core metadata's <c>Requires-Dist</c> writes it: <c>name [extras] (specifier) ; marker</c>,
/// with or without parentheses, or <c>name @ url ; marker</c> (a direct reference, which an index cannot serve).
/// </summary>
/// <param name="Name">The name as written.</param>
/// <param name="Project">The PEP 503 normalized name.</param>
/// <param name="Extras">The extras asked for, PEP 685 normalized, each once, in written order.</param>
/// <param name="Specifier">The version specifiers (empty: any version).</param>
/// <param name="Marker">The environment marker, or null (always applies).</param>
/// <param name="Url">The direct reference after <c>@</c>, or null.</param>
public sealed record Requirement(
    string Name,
    string Project,
    IReadOnlyList<string> Extras,
    VersionSpecifierSet Specifier,
    Marker? Marker,
    string? Url,
    string Text)
{
    public const int MaxInputLength = 8192;

    /// <summary>Parses one requirement; on failure <paramref name="error"/> says why in one line. Never throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Requirement? requirement, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException();

    /// <summary>True when there is no marker or it holds for <paramref name="environment"/> with <paramref name="extras"/>.</summary>
    public bool AppliesTo(MarkerEnvironment environment, IReadOnlySet<string> extras) => Marker?.Evaluate(environment, extras) ?? true;

    /// <summary>PEP 685: extras compare after PEP 503 normalization.</summary>
    public static string NormalizeExtra(string extra) => ProjectName.Normalize(extra);
}
