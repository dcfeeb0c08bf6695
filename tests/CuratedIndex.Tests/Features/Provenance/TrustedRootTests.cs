using System.Text;
using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

public sealed class TrustedRootTests
{
    [Fact]
    public void ProductionRoot_NamesRekorV1AndV2Logs()
    {
        Assert.Equal(["rekor.sigstore.dev", "log2025-1.rekor.sigstore.dev"], Production.LogOrigins);
        Assert.Equal(new DateTimeOffset(2025, 9, 23, 0, 0, 0, TimeSpan.Zero), Production.LatestKeyValidityStart);
    }

    [Fact]
    public void StagingRoot_Parses()
    {
        Assert.Contains("rekor.sigstage.dev", Staging.LogOrigins);
        Assert.Contains("log2025-alpha3.rekor.sigstage.dev", Staging.LogOrigins);
    }

    [Theory]
    [InlineData("", "trusted root is not valid JSON")]
    [InlineData("{", "trusted root is not valid JSON")]
    [InlineData("[]", "trusted root must be an object")]
    [InlineData("{\"mediaType\":\"application/json\"}", "unknown mediaType 'application/json'")]
    [InlineData("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}", "'tlogs' is empty")]
    [InlineData("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[]}", "'tlogs' is empty")]
    [InlineData("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[{\"baseUrl\":\"nope\"}]}", "tlogs[0]: baseUrl 'nope' is not an absolute URL")]
    [InlineData("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[{\"baseUrl\":\"https://x\",\"publicKey\":{\"keyDetails\":\"PKIX_ED25519\",\"rawBytes\":\"!!\"}}]}", "tlogs[0].publicKey: 'rawBytes' is not valid base64")]
    public void BadRoot_ThrowsTrustedRootExceptionNamingTheField(string json, string reason)
    {
        var exception = Assert.Throws<TrustedRootException>(() => TrustedRoot.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(reason, exception.Message);
    }

    [Fact]
    public void BadValidityTime_Throws()
    {
        var json = Text("trusted_root.production.json").Replace("2021-01-12T11:53:27Z", "yesterday", StringComparison.Ordinal);

        var exception = Assert.Throws<TrustedRootException>(() => TrustedRoot.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Contains("tlogs[0].publicKey.validFor.start 'yesterday' is not an RFC 3339 time", exception.Message);
    }

    [Fact]
    public void BadCertificate_Throws()
    {
        var json = Text("trusted_root.production.json");
        var start = json.IndexOf("\"rawBytes\": \"MIIB", StringComparison.Ordinal);
        Assert.True(start > 0);
        json = json[..(start + 13)] + "AAAA" + json[(start + 17)..];

        Assert.Throws<TrustedRootException>(() => TrustedRoot.Parse(Encoding.UTF8.GetBytes(json)));
    }
}
