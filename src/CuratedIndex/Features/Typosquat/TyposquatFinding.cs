namespace CuratedIndex.Features.Typosquat;

/// <summary>How a lookalike name was made from the name it imitates.</summary>
internal enum TyposquatKind
{
    Homoglyph,
    Separator,
    WordOrder,
    LanguageWordMoved,
    Swapped,
    Doubled,
    Dropped,
    Added,
    KeyboardSubstitution,
    Substitution,
    DigitForDigit,
    TrailingLetter,
    LeadingLetter,
    AffixSwapped,
    AffixAdded,
    AffixAndTypo,
    ReleaseWord,
    MisspelledWord,
}

/// <summary>
/// A name that looks like <see cref="Imitated"/>. <see cref="Rank"/> is the imitated project's popularity rank, or
/// null when it is one of the organization's own names. <see cref="Score"/> is 0..1; higher is more suspicious.
/// </summary>
internal sealed record TyposquatFinding(string Name, string Imitated, int? Rank, double Score, TyposquatKind Kind, IReadOnlyList<string> Reasons)
{
    /// <summary>One line: name, imitated project, score and reasons, tab-separated (the <c>typosquat-check</c> output).</summary>
    public string ToTsv() => $"{Name}\t{Imitated}\t{Score.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}\t{string.Join("; ", Reasons)}";
}
