using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Releases;
using Json.Schema;

namespace CuratedIndex.Tests.Features.Releases;

public sealed class AuditsFileTests
{
    private const string SixSha = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274";
    private const string FirstSha = "8d8e46e115ea8ac652c76123c0865e3ff18372aef6f03c22809ceefcea9dec86";

    private static readonly DateTimeOffset ExportedAt = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(Path.Combine(DocsDirectory(), "audits-format.schema.json"))));

    private static AuditsFile Sample() => AuditsFile.Create(
        "example-platform-team",
        ExportedAt,
        [
            new AuditsVetting(
                "six", "1.17.0", "safe-to-deploy",
                [new AuditsFileEntry("six-1.17.0-py2.py3-none-any.whl", SixSha, 11050)],
                "alice", ExportedAt.AddDays(-15), "reviewer", "Read the diff against 1.16.0.", BreakGlass: true),
            new AuditsVetting(
                "first", "2.0.2", "safe-to-run",
                [new AuditsFileEntry("first-2.0.2-py2.py3-none-any.whl", FirstSha, 5359)],
                "bob", ExportedAt.AddDays(-14), "import", Source: "partner-security-team"),
        ],
        since: ExportedAt.AddMonths(-1));

    [Fact]
    public void Serialize_ThenRead_RoundTrips()
    {
        var original = Sample();

        var bytes = original.Serialize();
        var read = AuditsFile.Read(bytes);

        Assert.True(read.IsValid, string.Join('\n', read.Errors));
        var file = read.File!;
        Assert.Equal("curated-index-audits", file.Format);
        Assert.Equal(1, file.Version);
        Assert.Equal(original.Organization, file.Organization);
        Assert.Equal(original.ExportedAt, file.ExportedAt);
        Assert.Equal(original.Since, file.Since);
        Assert.Equal(2, file.Vettings.Count);
        var six = file.Vettings[0];
        Assert.Equal(("six", "1.17.0", "safe-to-deploy", "alice", "reviewer", true, (string?)null),
            (six.Project, six.Version, six.Criteria, six.Who, six.How, six.BreakGlass, six.Source));
        Assert.Equal("Read the diff against 1.16.0.", six.Notes);
        Assert.Equal(original.Vettings[0].Files.Single(), six.Files.Single());
        Assert.Equal("partner-security-team", file.Vettings[1].Source);
        Assert.Null(file.Vettings[1].Notes);
        Assert.Equal(bytes, file.Serialize());
    }

    [Fact]
    public void Serialize_UsesTheDocumentedNamesAndLeavesOutEmptyOptionals()
    {
        var json = JsonNode.Parse(Sample().Serialize())!.AsObject();

        Assert.Equal(["format", "version", "organization", "exportedAt", "vettings", "since"], json.Select(p => p.Key));
        var imported = json["vettings"]![1]!.AsObject();
        Assert.False(imported.ContainsKey("notes"));
        Assert.Equal("partner-security-team", (string?)imported["source"]);
        Assert.False(json["vettings"]![0]!.AsObject().ContainsKey("source"));
    }

    [Fact]
    public void Serialize_OutputValidatesAgainstTheJsonSchema()
    {
        using var document = JsonDocument.Parse(Sample().Serialize());

        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

        Assert.True(result.IsValid, Describe(result));
    }

    [Fact]
    public void Schema_RequiredFieldsAndEnums_MatchTheReader()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(DocsDirectory(), "audits-format.schema.json")));
        var root = schema.RootElement;
        var vetting = root.GetProperty("$defs").GetProperty("vetting");
        var file = root.GetProperty("$defs").GetProperty("file");

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.Equal(AuditsFile.FormatName, root.GetProperty("properties").GetProperty("format").GetProperty("const").GetString());
        Assert.Equal(AuditsFile.CurrentVersion, root.GetProperty("properties").GetProperty("version").GetProperty("const").GetInt32());
        Assert.Equal(["format", "version", "organization", "exportedAt", "vettings"], Strings(root.GetProperty("required")));
        Assert.Equal(["project", "version", "criteria", "files", "who", "when", "how"], Strings(vetting.GetProperty("required")));
        Assert.Equal(["filename", "sha256", "size"], Strings(file.GetProperty("required")));
        Assert.Equal(AuditsFile.CriteriaValues.Order(), Strings(vetting.GetProperty("properties").GetProperty("criteria").GetProperty("enum")).Order());
        Assert.Equal(AuditsFile.HowValues.Order(), Strings(vetting.GetProperty("properties").GetProperty("how").GetProperty("enum")).Order());

        // Every property the writer can emit is one the schema defines (additionalProperties is false everywhere).
        var written = JsonNode.Parse(Sample().Serialize())!.AsObject();
        Assert.All(written.Select(p => p.Key), key => Assert.True(root.GetProperty("properties").TryGetProperty(key, out _), key));
        Assert.All(written["vettings"]![0]!.AsObject().Select(p => p.Key), key => Assert.True(vetting.GetProperty("properties").TryGetProperty(key, out _), key));
        Assert.All(written["vettings"]![1]!.AsObject().Select(p => p.Key), key => Assert.True(vetting.GetProperty("properties").TryGetProperty(key, out _), key));
    }

    [Fact]
    public void DocumentedExample_IsValidForTheSchemaAndTheReader()
    {
        var markdown = File.ReadAllText(Path.Combine(DocsDirectory(), "audits-format.md"));
        var start = markdown.IndexOf("```json\n", StringComparison.Ordinal) + "```json\n".Length;
        var example = markdown[start..markdown.IndexOf("```", start, StringComparison.Ordinal)];
        using var document = JsonDocument.Parse(example);

        var schemaResult = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        var read = AuditsFile.Read(example);

        Assert.True(schemaResult.IsValid, Describe(schemaResult));
        Assert.True(read.IsValid, string.Join('\n', read.Errors));
        Assert.Equal(2, read.File!.Vettings.Count);
    }

    [Theory]
    [InlineData("format", "not an audits file: 'format' must be \"curated-index-audits\"", true)]
    [InlineData("version2", "version 2 is not supported (this reader knows version 1)", true)]
    [InlineData("versionString", "'version' must be an integer", true)]
    [InlineData("unknownProperty", "critera", true)]
    [InlineData("missingWho", "who", true)]
    [InlineData("nullOrganization", "organization", true)]
    [InlineData("badDate", "exportedAt", true)]
    [InlineData("emptyOrganization", "organization is empty", true)]
    [InlineData("paddedWho", "vettings[0].who has control characters or surrounding spaces", true)]
    [InlineData("shaUpper", "vettings[0].files[0].sha256 '4721F391ED90541FDDACAB5ACF947AA0D3DC7D27B2E1E8EDA2BE8970586C3274' is not 64 lower-case hex characters", true)]
    [InlineData("shaShort", "vettings[0].files[0].sha256 'abc' is not 64 lower-case hex characters", true)]
    [InlineData("criteria", "vettings[0].criteria 'safe-to-ship' is not one of safe-to-deploy, safe-to-run", true)]
    [InlineData("how", "vettings[0].how 'magic' is not one of reviewer, policy, import, auto", true)]
    [InlineData("projectNotNormalized", "vettings[0].project 'Six' is not a normalized project name", true)]
    [InlineData("versionNotPep440", "vettings[0].version 'one' is not a PEP 440 version", false)]
    [InlineData("fileOfOtherProject", "vettings[0].files[0].filename 'first-2.0.2-py2.py3-none-any.whl' is not a distribution of six 1.17.0", false)]
    [InlineData("fileOfOtherVersion", "vettings[0].files[0].filename 'six-1.16.0-py2.py3-none-any.whl' is not a distribution of six 1.17.0", false)]
    [InlineData("fileWithPath", "vettings[0].files[0].filename '../six-1.17.0-py2.py3-none-any.whl' is not a distribution of six 1.17.0", true)]
    [InlineData("fileTwice", "vettings[0].files[1].filename 'six-1.17.0-py2.py3-none-any.whl' is listed twice", false)]
    [InlineData("noFiles", "vettings[0].files is empty: a vetting pins at least one file", true)]
    [InlineData("sizeZero", "vettings[0].files[0].size 0 is not a positive byte count", true)]
    [InlineData("duplicateVetting", "vettings[2] repeats vettings[0] (six 1.17.0.0, safe-to-deploy)", false)]
    [InlineData("importWithoutSource", "vettings[1].source is empty", true)]
    [InlineData("sourceOnReviewer", "vettings[0].source is only for vettings with how 'import'", true)]
    [InlineData("notesTooLong", "vettings[0].notes is longer than 4000 characters", true)]
    [InlineData("sinceAfterExport", "since is after exportedAt", false)]
    [InlineData("duplicateProperty", "organization", false)]
    [InlineData("rootArray", "the document is not a JSON object", true)]
    public void Read_BadDocument_RefusedWithAPreciseReason(string mutation, string expected, bool schemaAlsoRefuses)
    {
        var json = Mutate(mutation);

        var read = AuditsFile.Read(json);

        Assert.False(read.IsValid);
        Assert.Null(read.File);
        Assert.Contains(read.Errors, e => e.Contains(expected, StringComparison.Ordinal));
        if (schemaAlsoRefuses)
        {
            using var document = JsonDocument.Parse(json);
            Assert.False(Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { RequireFormatValidation = true }).IsValid);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    public void Read_NotJson_RefusedWithoutThrowing(string text)
    {
        var read = AuditsFile.Read(text);

        Assert.StartsWith("not a valid audits document", Assert.Single(read.Errors));
    }

    [Fact]
    public void Read_DeeplyNested_RefusedWithoutThrowing()
    {
        var json = "{\"format\":\"curated-index-audits\",\"version\":1,\"x\":" + new string('[', 100) + new string(']', 100) + "}";

        var read = AuditsFile.Read(json);

        Assert.StartsWith("not a valid audits document", Assert.Single(read.Errors));
    }

    [Fact]
    public void Read_OverSizeDocument_RefusedUnread()
    {
        var bytes = new byte[AuditsFile.MaxBytes + 1];

        var read = AuditsFile.Read(bytes);

        Assert.Equal($"the document is {AuditsFile.MaxBytes + 1} bytes, over the {AuditsFile.MaxBytes} byte limit", Assert.Single(read.Errors));
    }

    [Fact]
    public void Validate_TooManyVettings_Refused()
    {
        var one = Sample().Vettings[0];
        var file = Sample() with { Vettings = Enumerable.Repeat(one, AuditsFile.MaxVettings + 1).ToList() };

        Assert.Equal([$"{AuditsFile.MaxVettings + 1} vettings is over the limit of {AuditsFile.MaxVettings}"], file.Validate());
    }

    [Fact]
    public void Validate_TooManyFiles_Refused()
    {
        var entry = Sample().Vettings[0].Files[0];
        var vetting = Sample().Vettings[0] with { Files = Enumerable.Repeat(entry, AuditsFile.MaxFilesPerVetting + 1).ToList() };
        var file = Sample() with { Vettings = [vetting] };

        Assert.Equal([$"vettings[0].files has {AuditsFile.MaxFilesPerVetting + 1} entries, over the limit of {AuditsFile.MaxFilesPerVetting}"], file.Validate());
    }

    [Fact]
    public void Validate_EmptyVettings_IsFine()
    {
        var file = AuditsFile.Create("example-platform-team", ExportedAt, []);

        Assert.Empty(file.Validate());
        Assert.True(AuditsFile.Read(file.Serialize()).IsValid);
    }

    private static string Mutate(string mutation)
    {
        var root = JsonNode.Parse(Sample().Serialize())!.AsObject();
        var vettings = root["vettings"]!.AsArray();
        var six = vettings[0]!.AsObject();
        var sixFile = six["files"]![0]!.AsObject();
        switch (mutation)
        {
            case "format": root["format"] = "cargo-vet-audits"; break;
            case "version2": root["version"] = 2; break;
            case "versionString": root["version"] = "1"; break;
            case "unknownProperty": six["critera"] = "safe-to-run"; break;
            case "missingWho": six.Remove("who"); break;
            case "nullOrganization": root["organization"] = null; break;
            case "badDate": root["exportedAt"] = "yesterday"; break;
            case "emptyOrganization": root["organization"] = ""; break;
            case "paddedWho": six["who"] = " alice"; break;
            case "shaUpper": sixFile["sha256"] = SixSha.ToUpperInvariant(); break;
            case "shaShort": sixFile["sha256"] = "abc"; break;
            case "criteria": six["criteria"] = "safe-to-ship"; break;
            case "how": six["how"] = "magic"; break;
            case "projectNotNormalized": six["project"] = "Six"; break;
            case "versionNotPep440": six["version"] = "one"; break;
            case "fileOfOtherProject": sixFile["filename"] = "first-2.0.2-py2.py3-none-any.whl"; break;
            case "fileOfOtherVersion": sixFile["filename"] = "six-1.16.0-py2.py3-none-any.whl"; break;
            case "fileWithPath": sixFile["filename"] = "../six-1.17.0-py2.py3-none-any.whl"; break;
            case "fileTwice": six["files"]!.AsArray().Add(sixFile.DeepClone()); break;
            case "noFiles": six["files"] = new JsonArray(); break;
            case "sizeZero": sixFile["size"] = 0; break;
            case "duplicateVetting":
                var copy = six.DeepClone().AsObject();
                copy["version"] = "1.17.0.0";
                copy["files"]![0]!["filename"] = "six-1.17.0.0-py2.py3-none-any.whl";
                vettings.Add(copy);
                break;
            case "importWithoutSource": vettings[1]!.AsObject().Remove("source"); break;
            case "sourceOnReviewer": six["source"] = "someone-else"; break;
            case "notesTooLong": six["notes"] = new string('x', AuditsFile.MaxNotesLength + 1); break;
            case "sinceAfterExport": root["since"] = ExportedAt.AddDays(1).ToString("O"); break;
            case "duplicateProperty":
                var text = root.ToJsonString();
                return text.Replace("\"organization\":", "\"organization\":\"evil\",\"organization\":", StringComparison.Ordinal);
            case "rootArray": return new JsonArray(root).ToJsonString();
            default: throw new ArgumentException(mutation);
        }

        return root.ToJsonString();
    }

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string Describe(EvaluationResults result) =>
        string.Join('\n', (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    // docs/ sits at the repository root, above the test output folder.
    private static string DocsDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "docs", "audits-format.schema.json");
            if (File.Exists(candidate))
            {
                return Path.GetDirectoryName(candidate)!;
            }
        }

        throw new DirectoryNotFoundException("docs/audits-format.schema.json not found above " + AppContext.BaseDirectory);
    }
}
