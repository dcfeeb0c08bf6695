using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// A parsed PEP 508 environment marker (<c>python_version &lt; "3.8" and sys_platform == "win32"</c>). Parsing never
/// throws on hostile input beyond <see cref="TryParse"/>'s error; evaluation is pure.
/// </summary>
public sealed class Marker
{
    public const int MaxInputLength = 4096;

    private Marker()
    {
    }

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says where and why in one line.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Marker? marker, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException();

    /// <summary>
    /// True when the marker holds in <paramref name="environment"/> with the extras asked for (PEP 685 normalized names;
    /// empty: no extras, so <c>extra == "x"</c> is false). Version operators compare as PEP 440 where both sides parse.
    /// </summary>
    public bool Evaluate(MarkerEnvironment environment, IReadOnlySet<string> extras) => throw new NotImplementedException();

    /// <summary>The marker as written (trimmed).</summary>
    public override string ToString() => throw new NotImplementedException();
}
