using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// The fields of a core metadata file (a wheel's <c>METADATA</c>, PEP 658's <c>.metadata</c>, an sdist's <c>PKG-INFO</c>)
/// that a dependency closure needs. Headers are read up to the first empty line (the description body is ignored);
/// continuation lines are folded. Bounded: more than <see cref="MaxBytes"/> is refused.
/// </summary>
public sealed record CoreMetadata(
    string MetadataVersion,
    string Name,
    string Version,
    IReadOnlyList<string> RequiresDist,
    string? RequiresPython,
    IReadOnlyList<string> ProvidesExtra,
    IReadOnlyList<string> Dynamic)
{
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Parses UTF-8 metadata (a BOM and CRLF line ends are accepted); on failure <paramref name="error"/> says why. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out CoreMetadata? metadata, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException();

    /// <summary>
    /// True when <see cref="RequiresDist"/> can be trusted to be what an install would use: always for a wheel's metadata;
    /// for an sdist's PKG-INFO only from Metadata-Version 2.2 on and when Requires-Dist is not listed in Dynamic (PEP 643).
    /// </summary>
    public bool RequiresDistIsStatic => throw new NotImplementedException();
}
