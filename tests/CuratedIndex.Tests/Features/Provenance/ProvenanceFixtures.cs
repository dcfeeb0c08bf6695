using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// The real PEP 740 fixtures under Fixtures/provenance (MANIFEST.md) and helpers to wrap bare attestations into a
/// provenance object. Test-only: the product never invents a publisher.
/// </summary>
internal static class ProvenanceFixtures
{
    /// <summary>The verifier's clock in tests: after every fixture was signed.</summary>
    public static readonly DateTimeOffset Now = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);

    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "provenance");

    public static TrustedRoot Production { get; } = TrustedRoot.Parse(Read("trusted_root.production.json"));
    public static TrustedRoot Staging { get; } = TrustedRoot.Parse(Read("trusted_root.staging.json"));

    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static string Text(string name) => Encoding.UTF8.GetString(Read(name));

    public static string Sha256(string name) => Convert.ToHexStringLower(SHA256.HashData(Read(name)));

    /// <summary>The subject digest the attestation's own statement names (for fixtures whose dist is not available).</summary>
    public static string StatementDigest(JsonNode attestation) =>
        Statement(attestation)["subject"]![0]!["digest"]!["sha256"]!.GetValue<string>();

    public static JsonNode Statement(JsonNode attestation) =>
        JsonNode.Parse(Convert.FromBase64String(attestation["envelope"]!["statement"]!.GetValue<string>()))!;

    public static JsonNode FirstAttestation(JsonNode provenance) => provenance["attestation_bundles"]![0]!["attestations"]![0]!;

    /// <summary>A provenance object holding <paramref name="attestation"/> under <paramref name="publisher"/>.</summary>
    public static byte[] Wrap(JsonNode attestation, JsonObject publisher) =>
        Encoding.UTF8.GetBytes(new JsonObject
        {
            ["version"] = 1,
            ["attestation_bundles"] = new JsonArray(new JsonObject
            {
                ["publisher"] = publisher,
                ["attestations"] = new JsonArray(attestation.DeepClone()),
            }),
        }.ToJsonString());

    /// <summary>
    /// The publisher a bare attestation's certificate proves, in PyPI's provenance form: GitHub (repository and
    /// workflow from the Source Repository and Build Config URIs), GitLab (same, with the `//` before the CI file) or
    /// Google (the SAN email).
    /// </summary>
    public static JsonObject PublisherProvenBy(JsonNode attestation)
    {
        var certificate = FulcioCertificate.Load(Convert.FromBase64String(attestation["verification_material"]!["certificate"]!.GetValue<string>()));
        var buildConfig = certificate.Extension(18) ?? "";
        switch (certificate.Extension(8))
        {
            case "https://token.actions.githubusercontent.com":
                {
                    var repository = (certificate.Extension(12) ?? "")["https://github.com/".Length..];
                    var workflow = buildConfig[(buildConfig.IndexOf("/.github/workflows/", StringComparison.Ordinal) + "/.github/workflows/".Length)..buildConfig.LastIndexOf('@')];
                    return new JsonObject { ["kind"] = "GitHub", ["repository"] = repository, ["workflow"] = workflow, ["environment"] = null };
                }
            case "https://gitlab.com":
                {
                    var repository = (certificate.Extension(12) ?? "")["https://gitlab.com/".Length..];
                    var workflow = buildConfig[(buildConfig.IndexOf("//", "https://".Length, StringComparison.Ordinal) + 2)..buildConfig.LastIndexOf('@')];
                    return new JsonObject { ["kind"] = "GitLab", ["repository"] = repository, ["workflow_filepath"] = workflow, ["environment"] = "" };
                }
            default:
                return new JsonObject { ["kind"] = "Google", ["email"] = certificate.SubjectAlternativeNames().Emails.Single() };
        }
    }

    public static JsonNode LoadJson(string name) => JsonNode.Parse(Read(name))!;

    public static ProvenanceVerification VerifyBare(string attestationFile, string filename, string sha256, TrustedRoot root)
    {
        var attestation = LoadJson(attestationFile);
        return ProvenanceVerifier.Verify(Wrap(attestation, PublisherProvenBy(attestation)), filename, sha256, root, Now);
    }
}
