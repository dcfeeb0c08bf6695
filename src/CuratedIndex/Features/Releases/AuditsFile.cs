using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// The audits file: vettings one organization exports for another to import (docs/audits-format.md,
/// docs/audits-format.schema.json). Version 1. A reader refuses unknown properties: any change to the format
/// bumps <see cref="Version"/>.
/// </summary>
/// <param name="Since">The <c>--since</c> bound of a partial export (vettings made at or after it), or null for all.</param>
public sealed record AuditsFile(
    string Format,
    int Version,
    string Organization,
    DateTimeOffset ExportedAt,
    IReadOnlyList<AuditsVetting> Vettings,
    DateTimeOffset? Since = null)
{
    public const string FormatName = "curated-index-audits";
    public const int CurrentVersion = 1;

    /// <summary>A larger document is refused unread.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;
    public const int MaxVettings = 100_000;
    public const int MaxFilesPerVetting = 1_000;
    public const int MaxNameLength = 200;
    public const int MaxNotesLength = 4_000;

    public static readonly IReadOnlySet<string> CriteriaValues = new HashSet<string>(StringComparer.Ordinal) { "safe-to-deploy", "safe-to-run" };
    public static readonly IReadOnlySet<string> HowValues = new HashSet<string>(StringComparer.Ordinal) { "reviewer", "policy", "import", "auto" };

    /// <summary>A new version-1 document.</summary>
    public static AuditsFile Create(string organization, DateTimeOffset exportedAt, IReadOnlyList<AuditsVetting> vettings, DateTimeOffset? since = null) =>
        new(FormatName, CurrentVersion, organization, exportedAt, vettings, since);

    /// <summary>UTF-8 JSON, indented, optional members left out when empty.</summary>
    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, AuditsJsonContext.Default.AuditsFile);

    /// <summary>
    /// Reads and validates a document. Never throws for bad input: a refused document comes back with
    /// <see cref="AuditsReadResult.File"/> null and one line per problem.
    /// </summary>
    public static AuditsReadResult Read(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            return AuditsReadResult.Refused($"the document is {utf8Json.Length} bytes, over the {MaxBytes} byte limit");
        }

        try
        {
            // Format and version first, so that a newer document gets that answer rather than "unknown property".
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 16 });
            using (var document = JsonDocument.ParseValue(ref reader))
            {
                var header = CheckHeader(document.RootElement);
                if (header is not null)
                {
                    return AuditsReadResult.Refused(header);
                }
            }

            var file = JsonSerializer.Deserialize(utf8Json, AuditsJsonContext.Default.AuditsFile);
            if (file is null)
            {
                return AuditsReadResult.Refused("the document is null");
            }

            var errors = file.Validate();
            return errors.Count == 0 ? new AuditsReadResult(file, []) : new AuditsReadResult(null, errors);
        }
        catch (JsonException e)
        {
            var where = e.Path is null or "$" ? "" : $" at {e.Path}";
            return AuditsReadResult.Refused($"not a valid audits document{where}: {FirstSentence(e.Message)}");
        }
    }

    /// <summary>Reads a document from text (tests, small files).</summary>
    public static AuditsReadResult Read(string json) => Read(Encoding.UTF8.GetBytes(json));

    /// <summary>Every reason this document must be refused; empty when it is fine to import.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Format != FormatName)
        {
            errors.Add($"format is '{Format}', expected '{FormatName}'");
        }

        if (Version != CurrentVersion)
        {
            errors.Add($"version {Version} is not supported (this reader knows version {CurrentVersion})");
        }

        CheckName(errors, "organization", Organization);
        if (Since > ExportedAt)
        {
            errors.Add("since is after exportedAt");
        }

        if (Vettings is null)
        {
            errors.Add("vettings is missing");
            return errors;
        }

        if (Vettings.Count > MaxVettings)
        {
            errors.Add($"{Vettings.Count} vettings is over the limit of {MaxVettings}");
            return errors;
        }

        var seen = new Dictionary<(string Project, Pep440Version Version, string Criteria), int>();
        for (var i = 0; i < Vettings.Count; i++)
        {
            var vetting = Vettings[i];
            if (vetting is null)
            {
                errors.Add($"vettings[{i}] is null");
                continue;
            }

            var version = vetting.Validate($"vettings[{i}]", errors);
            if (version is not null && vetting.Project is not null && vetting.Criteria is not null)
            {
                var key = (vetting.Project, version, vetting.Criteria);
                if (seen.TryGetValue(key, out var earlier))
                {
                    errors.Add($"vettings[{i}] repeats vettings[{earlier}] ({vetting.Project} {vetting.Version}, {vetting.Criteria})");
                }
                else
                {
                    seen[key] = i;
                }
            }
        }

        return errors;
    }

    internal static void CheckName(List<string> errors, string what, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{what} is empty");
        }
        else if (value.Length > MaxNameLength)
        {
            errors.Add($"{what} is longer than {MaxNameLength} characters");
        }
        else if (value.Any(char.IsControl) || value != value.Trim())
        {
            errors.Add($"{what} has control characters or surrounding spaces");
        }
    }

    private static string? CheckHeader(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "the document is not a JSON object";
        }

        if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName)
        {
            return $"not an audits file: 'format' must be \"{FormatName}\"";
        }

        if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number))
        {
            return "'version' must be an integer";
        }

        return number == CurrentVersion ? null : $"version {number} is not supported (this reader knows version {CurrentVersion})";
    }

    // System.Text.Json names our CLR types; the reader of the message knows the JSON, not the namespace.
    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        var sentence = end < 0 ? message : message[..(end + 1)];
        return sentence.Replace(typeof(AuditsFile).Namespace + ".", "", StringComparison.Ordinal);
    }
}

/// <summary>One vetting: a release vouched for under a criteria, pinned to its files.</summary>
/// <param name="Project">PEP 503 normalized name.</param>
/// <param name="Version">PEP 440 version as the index lists it.</param>
/// <param name="Criteria"><c>safe-to-deploy</c> or <c>safe-to-run</c>.</param>
/// <param name="How"><c>reviewer</c>, <c>policy</c>, <c>import</c> or <c>auto</c>.</param>
/// <param name="Source">For <c>how: import</c>, the organization the vetting was imported from; absent otherwise.</param>
public sealed record AuditsVetting(
    string Project,
    string Version,
    string Criteria,
    IReadOnlyList<AuditsFileEntry> Files,
    string Who,
    DateTimeOffset When,
    string How,
    string? Notes = null,
    bool BreakGlass = false,
    string? Source = null)
{
    // Adds this vetting's problems to errors; returns its parsed version when that much is valid.
    internal Pep440Version? Validate(string at, List<string> errors)
    {
        if (Project is null || !ProjectName.IsValid(Project) || !ProjectName.IsNormalized(Project))
        {
            errors.Add($"{at}.project '{Project}' is not a normalized project name");
        }

        Pep440Version? version = null;
        if (Version is null || !Pep440Version.TryParse(Version, out version))
        {
            errors.Add($"{at}.version '{Version}' is not a PEP 440 version");
        }

        if (Criteria is null || !AuditsFile.CriteriaValues.Contains(Criteria))
        {
            errors.Add($"{at}.criteria '{Criteria}' is not one of {string.Join(", ", AuditsFile.CriteriaValues)}");
        }

        if (How is null || !AuditsFile.HowValues.Contains(How))
        {
            errors.Add($"{at}.how '{How}' is not one of {string.Join(", ", AuditsFile.HowValues)}");
        }

        AuditsFile.CheckName(errors, $"{at}.who", Who);
        if (How == "import")
        {
            AuditsFile.CheckName(errors, $"{at}.source", Source);
        }
        else if (Source is not null)
        {
            errors.Add($"{at}.source is only for vettings with how 'import'");
        }

        if (Notes is { Length: > AuditsFile.MaxNotesLength })
        {
            errors.Add($"{at}.notes is longer than {AuditsFile.MaxNotesLength} characters");
        }

        ValidateFiles(at, version, errors);
        return version;
    }

    private void ValidateFiles(string at, Pep440Version? version, List<string> errors)
    {
        if (Files is null || Files.Count == 0)
        {
            errors.Add($"{at}.files is empty: a vetting pins at least one file");
            return;
        }

        if (Files.Count > AuditsFile.MaxFilesPerVetting)
        {
            errors.Add($"{at}.files has {Files.Count} entries, over the limit of {AuditsFile.MaxFilesPerVetting}");
            return;
        }

        var filenames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var j = 0; j < Files.Count; j++)
        {
            var entry = Files[j];
            var where = $"{at}.files[{j}]";
            if (entry is null)
            {
                errors.Add($"{where} is null");
                continue;
            }

            if (!DistributionFilename.IsSafe(entry.Filename)
                || !DistributionFilename.TryParse(entry.Filename, Project, out var parsed)
                || (version is not null && !(Pep440Version.TryParse(parsed.Version, out var fileVersion) && fileVersion == version)))
            {
                errors.Add($"{where}.filename '{entry.Filename}' is not a distribution of {Project} {Version}");
            }
            else if (!filenames.Add(entry.Filename))
            {
                errors.Add($"{where}.filename '{entry.Filename}' is listed twice");
            }

            if (entry.Sha256 is null || entry.Sha256.Length != 64 || !entry.Sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                errors.Add($"{where}.sha256 '{entry.Sha256}' is not 64 lower-case hex characters");
            }

            if (entry.Size <= 0)
            {
                errors.Add($"{where}.size {entry.Size} is not a positive byte count");
            }
        }
    }
}

/// <summary>A vetted file: the exact bytes the vetting covers.</summary>
public sealed record AuditsFileEntry(string Filename, string Sha256, long Size);

/// <summary>A validated document, or the reasons it was refused.</summary>
public sealed record AuditsReadResult(AuditsFile? File, IReadOnlyList<string> Errors)
{
    public bool IsValid => File is not null;

    internal static AuditsReadResult Refused(string error) => new(null, [error]);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    MaxDepth = 16)]
[JsonSerializable(typeof(AuditsFile))]
internal sealed partial class AuditsJsonContext : JsonSerializerContext;
