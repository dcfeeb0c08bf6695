using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>The in-toto Statement a DSSE envelope carries, parsed from the exact signed payload bytes.</summary>
internal sealed record InTotoStatement(string Type, string PredicateType, IReadOnlyList<(string Name, string? Sha256)> Subjects)
{
    public const string StatementV1 = "https://in-toto.io/Statement/v1";
    public const string PypiPublishV1 = "https://docs.pypi.org/attestations/publish/v1";
    public const string SlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
    private const int MaxSubjects = 1024;

    public static InTotoStatement Parse(byte[] payload)
    {
        const string What = "in-toto statement";
        try
        {
            using var document = JsonDocument.Parse(payload, SigstoreJson.DocumentOptions);
            var root = document.RootElement;
            var subjects = new List<(string, string?)>();
            foreach (var subject in SigstoreJson.Array(root, "subject", What).EnumerateArray())
            {
                if (subjects.Count >= MaxSubjects)
                {
                    throw new ProvenanceCheckException("in-toto statement has too many subjects");
                }
                var digest = SigstoreJson.OptionalObject(subject, "digest", What + " subject");
                subjects.Add((SigstoreJson.OptionalString(subject, "name", What + " subject") ?? "",
                    digest is { } d ? SigstoreJson.OptionalString(d, "sha256", What + " subject digest") : null));
            }
            return new InTotoStatement(
                SigstoreJson.String(root, "_type", What),
                SigstoreJson.String(root, "predicateType", What),
                subjects);
        }
        catch (JsonException)
        {
            throw new ProvenanceCheckException("in-toto statement is not JSON");
        }
    }

    /// <summary>
    /// PEP 740: a v1 statement about exactly this one file (name and sha256) with a PyPI publish or SLSA provenance
    /// predicate. The name is compared exactly, which is always right for files PyPI serves.
    /// </summary>
    public void RequirePep740Subject(string filename, string sha256Hex)
    {
        if (Type != StatementV1)
        {
            throw new ProvenanceCheckException($"in-toto statement type '{Type}' is not {StatementV1}");
        }
        if (PredicateType is not (PypiPublishV1 or SlsaProvenanceV1))
        {
            throw new ProvenanceCheckException($"predicate type '{PredicateType}' is not a PyPI publish or SLSA provenance predicate");
        }
        if (Subjects.Count != 1)
        {
            throw new ProvenanceCheckException($"in-toto statement has {Subjects.Count} subjects, not exactly one");
        }
        var (name, sha256) = Subjects[0];
        if (name != filename)
        {
            throw new ProvenanceCheckException($"subject name '{name}' is not the file name '{filename}'");
        }
        if (!string.Equals(sha256, sha256Hex, StringComparison.OrdinalIgnoreCase))
        {
            throw new ProvenanceCheckException($"subject sha256 {sha256} is not the file's sha256 {sha256Hex}");
        }
    }
}
