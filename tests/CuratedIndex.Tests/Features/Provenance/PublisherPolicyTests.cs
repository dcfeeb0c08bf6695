using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// The publisher ↔ certificate identity mapping alone, over certificates made here with Fulcio's extensions. No real
/// fixture carries Deployment Environment (.1.23) yet, so its rules are pinned this way; the signature checks are
/// covered by the real fixtures.
/// </summary>
public sealed class PublisherPolicyTests
{
    private const string Workflow = "https://github.com/owner/repo/.github/workflows/release.yml@refs/tags/v1";

    private static FulcioCertificate GitHubCertificate(string? environment)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        void Add(int oid, string value)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
            request.CertificateExtensions.Add(new X509Extension(FulcioCertificate.FulcioOidPrefix + oid, writer.Encode(), critical: false));
        }
        Add(8, "https://token.actions.githubusercontent.com");
        Add(12, "https://github.com/owner/repo");
        Add(13, "0123456789abcdef0123456789abcdef01234567");
        Add(14, "refs/tags/v1");
        Add(18, Workflow);
        if (environment is not null)
        {
            Add(23, environment);
        }
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(9));
        return FulcioCertificate.Load(certificate.RawData);
    }

    private static JsonElement Publisher(string? environment) =>
        JsonDocument.Parse(JsonSerializer.Serialize(new { kind = "GitHub", repository = "owner/repo", workflow = "release.yml", environment })).RootElement;

    [Fact]
    public void CertificateEnvironmentEqualToTheStatedOne_IsProven()
    {
        var identity = PublisherPolicy.Match(Publisher("pypi"), GitHubCertificate("pypi"));

        Assert.Equal(new PublisherIdentity(PublisherKind.GitHub, "owner/repo", "release.yml", "pypi", EnvironmentProven: true), identity);
    }

    [Fact]
    public void CertificateEnvironmentOtherThanTheStatedOne_Fails()
    {
        var exception = Assert.Throws<ProvenanceCheckException>(() => PublisherPolicy.Match(Publisher("pypi"), GitHubCertificate("staging")));

        Assert.Contains("certificate Deployment Environment 'staging' is not the publisher environment 'pypi'", exception.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void NoStatedEnvironment_CertificateEnvironmentDoesNotConstrain_IdentityHasNone(string? stated)
    {
        // A PyPI publisher without an environment accepts uploads from any: the identity records none, unproven.
        var identity = PublisherPolicy.Match(Publisher(stated), GitHubCertificate("pypi"));

        Assert.Null(identity.Environment);
        Assert.False(identity.EnvironmentProven);
    }

    [Fact]
    public void StatedEnvironment_CertificateWithoutOne_IsUnproven()
    {
        var identity = PublisherPolicy.Match(Publisher("pypi"), GitHubCertificate(null));

        Assert.Equal("pypi", identity.Environment);
        Assert.False(identity.EnvironmentProven);
    }

    [Fact]
    public void BuildConfigMatchingTheCommitDigest_IsAccepted()
    {
        // pypi-attestations accepts the Build Config URI pinned to either the ref (.14) or the commit (.13).
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        foreach (var (oid, value) in new[] { (8, "https://token.actions.githubusercontent.com"), (12, "https://github.com/owner/repo"), (13, "abc123"), (18, "https://github.com/owner/repo/.github/workflows/release.yml@abc123") })
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
            request.CertificateExtensions.Add(new X509Extension(FulcioCertificate.FulcioOidPrefix + oid, writer.Encode(), critical: false));
        }
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(9));

        var identity = PublisherPolicy.Match(Publisher(null), FulcioCertificate.Load(certificate.RawData));

        Assert.Equal("github:owner/repo/.github/workflows/release.yml", identity.Canonical);
    }

    [Fact]
    public void MalformedExtensionValue_Fails()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension(FulcioCertificate.FulcioOidPrefix + 8, [0x0C, 0x7F, 0x41], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(9));

        var exception = Assert.Throws<ProvenanceCheckException>(() => PublisherPolicy.Match(Publisher(null), FulcioCertificate.Load(certificate.RawData)));

        Assert.Contains("is not a DER UTF8String", exception.Message);
    }
}
