using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Tests.Features.Policies;

/// <summary>The <c>publishers:</c> policy key: vetted publishers per project, with optional from/until dates.</summary>
public sealed class PolicyLoaderPublishersTests
{
    private static readonly PublisherIdentity PypiAttestations = new(PublisherKind.GitHub, "trailofbits/pypi-attestations", "release.yml", null);

    private static PolicyFileException Refusal(params (string Name, string Yaml)[] files) =>
        Assert.Throws<PolicyFileException>(() => PolicyLoader.Parse(files));

    private static void AssertNames(PolicyFileException error, string file, long line, string problem)
    {
        Assert.Equal(file, error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{file}:{line}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Publishers_StringsAndMappings_AreReadPerNormalizedProjectName()
    {
        var policy = PolicyLoader.Parse(("publishers.yaml", """
            publishers:
              PyPI_Attestations:
                - github:trailofbits/pypi-attestations/.github/workflows/release.yml
              sigstore:
                - "github:sigstore/sigstore-python/.github/workflows/release.yml@pypi"
                - { publisher: "google:919436158236-compute@developer.gserviceaccount.com", from: 2025-01-01 }
                - publisher: gitlab:pep740-example/sampleproject/.gitlab-ci.yml
                  from: "2025-01-01"
                  until: 2026-12-31
                - publisher: gitlab:acme/tools/pkg/ci/release.yml
                  until: 2026-12-31
            """));

        var attestations = Assert.Single(policy.Publishers["pypi-attestations"]);
        Assert.Equal("github:trailofbits/pypi-attestations/.github/workflows/release.yml", attestations.ToString());
        Assert.Null(attestations.From);
        Assert.Null(attestations.Until);

        var sigstore = policy.Publishers["sigstore"];
        Assert.Equal(
            [
                "github:sigstore/sigstore-python/.github/workflows/release.yml@pypi",
                "google:919436158236-compute@developer.gserviceaccount.com",
                "gitlab:pep740-example/sampleproject/.gitlab-ci.yml",
                "gitlab:acme/tools/pkg/ci/release.yml",
            ],
            sigstore.Select(p => p.ToString()));
        Assert.Equal("pypi", sigstore[0].Environment);
        Assert.Equal((new DateOnly(2025, 1, 1), (DateOnly?)null), (sigstore[1].From!.Value, sigstore[1].Until));
        Assert.Equal((new DateOnly(2025, 1, 1), new DateOnly(2026, 12, 31)), (sigstore[2].From!.Value, sigstore[2].Until!.Value));
        Assert.Equal(((DateOnly?)null, new DateOnly(2026, 12, 31)), (sigstore[3].From, sigstore[3].Until!.Value));
    }

    [Fact]
    public void PublishersFor_AnySpellingOfTheName_AndEmptyForOtherProjects()
    {
        var policy = PolicyLoader.Parse(("publishers.yaml", """
            publishers:
              pypi-attestations: ["github:trailofbits/pypi-attestations/.github/workflows/release.yml"]
            """));

        Assert.True(Assert.Single(policy.PublishersFor("PyPI.Attestations")).Matches(PypiAttestations, DateTimeOffset.UnixEpoch));
        Assert.Same(policy.PublishersFor("pypi-attestations")[0], policy.PublishersFor("pypi_attestations")[0]);
        Assert.Empty(policy.PublishersFor("requests"));
        Assert.Empty(PolicySnapshot.Empty.PublishersFor("pypi-attestations"));
        Assert.Empty(PolicyLoader.Parse(("a.yaml", "approve: [zipp]\n")).Publishers);
    }

    [Fact]
    public void Publishers_SeveralFiles_AreTheUnion_TheSameEntryTwiceIsKeptOnce()
    {
        var policy = PolicyLoader.Parse(
            ("a.yaml", """
                publishers:
                  sigstore: ["github:sigstore/sigstore-python/.github/workflows/release.yml"]
                  zipp: ["github:jaraco/zipp/.github/workflows/main.yml@pypi"]
                """),
            ("team/b.yaml", """
                publishers:
                  sigstore:
                    - github:sigstore/sigstore-python/.github/workflows/release.yml
                    - google:919436158236-compute@developer.gserviceaccount.com
                  Zipp:
                    # The same publisher in another spelling: GitHub owner/repo and environments ignore case.
                    - github:Jaraco/Zipp/.github/workflows/main.yml@PyPI
                """));

        Assert.Equal(
            ["github:sigstore/sigstore-python/.github/workflows/release.yml", "google:919436158236-compute@developer.gserviceaccount.com"],
            policy.Publishers["sigstore"].Select(p => p.ToString()));
        Assert.Equal("github:jaraco/zipp/.github/workflows/main.yml@pypi", Assert.Single(policy.Publishers["zipp"]).ToString());
    }

    [Fact]
    public void Publishers_SameEntryWithTheSameDatesInTwoFiles_IsAccepted()
    {
        const string Yaml = """
            publishers:
              sigstore:
                - { publisher: "github:sigstore/sigstore-python/.github/workflows/release.yml", from: 2025-01-01, until: 2026-12-31 }
            """;

        var publisher = Assert.Single(PolicyLoader.Parse(("a.yaml", Yaml), ("b.yaml", Yaml)).Publishers["sigstore"]);

        Assert.Equal(new DateOnly(2026, 12, 31), publisher.Until);
    }

    [Fact]
    public void Publishers_SameEntryWithDifferentDates_IsRefusedNamingTheSecondFileAndProject()
    {
        var widened = Refusal(
            ("a.yaml", "publishers:\n  sigstore:\n    - { publisher: \"github:sigstore/sigstore-python/.github/workflows/release.yml\", from: 2025-01-01 }\n"),
            ("team/b.yaml", "approve: [sigstore]\npublishers:\n  sigstore:\n    - github:Sigstore/sigstore-python/.github/workflows/release.yml\n"));
        var sameFile = Refusal(("p.yaml", """
            publishers:
              sigstore:
                - { publisher: "google:bot@acme.iam.gserviceaccount.com", until: 2026-12-31 }
                - { publisher: "google:Bot@acme.iam.gserviceaccount.com", until: 2027-12-31 }
            """));

        AssertNames(
            widened, "team/b.yaml", 4,
            "publishers of 'sigstore': 'github:Sigstore/sigstore-python/.github/workflows/release.yml' is listed twice with different dates (from 2025-01-01 and no dates)");
        AssertNames(sameFile, "p.yaml", 4, "is listed twice with different dates (until 2026-12-31 and until 2027-12-31)");
    }

    [Theory]
    [InlineData("publishers:\n  sigstore: [\"bitbucket:sigstore/sigstore-python/pipelines.yml\"]\n", 2,
        "publishers of 'sigstore': 'bitbucket:sigstore/sigstore-python/pipelines.yml': unknown publisher kind 'bitbucket'")]
    [InlineData("publishers:\n  sigstore:\n    - github:sigstore/sigstore-python\n", 3,
        "publishers of 'sigstore': 'github:sigstore/sigstore-python': the workflow path is missing")]
    [InlineData("publishers:\n  sigstore:\n    - github:sigstore/sigstore-python/release.yml\n", 3, "is not under .github/workflows/")]
    [InlineData("publishers:\n  sigstore:\n    - github:sigstore/sigstore-python/.github/workflows/release.sh\n", 3, "does not end in .yml or .yaml")]
    [InlineData("publishers:\n  sigstore:\n    - google:release-bot\n", 3, "'release-bot' is not a service account email")]
    [InlineData("publishers:\n  sigstore:\n    - github:sigstore/sigstore-python/.github/workflows/release.yml@\n", 3, "the environment after '@' is empty")]
    [InlineData("publishers:\n  sigstore:\n    - \"github:sigstore/sigstore-python/.github/workflows/release.yml@py pi\"\n", 3, "contains whitespace at position 65")]
    [InlineData("publishers:\n  sigstore:\n    - \"github:sigstore/sigstore-python/.github/workflows/release.yml\\t\"\n", 3,
        "'github:sigstore/sigstore-python/.github/workflows/release.yml\\u0009': the publisher contains whitespace")]
    [InlineData("publishers:\n  sigstore:\n    - \"github:sigstore/sigstore-python/.github/workflows/release.yml\\u202E\"\n", 3,
        "'github:sigstore/sigstore-python/.github/workflows/release.yml\\u202E': the publisher contains the non-ASCII character U+202E")]
    [InlineData("publishers:\n  sigstore:\n    - \"\"\n", 3, "publishers of 'sigstore': '': the publisher is empty")]
    [InlineData("publishers:\n  sigstore:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", from: 2026-01-01, until: 2025-12-31 }\n", 3,
        "until 2025-12-31 is before from 2026-01-01")]
    [InlineData("publishers:\n  sigstore:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", from: 2025-13-01 }\n", 3,
        "publishers of 'sigstore': from '2025-13-01' is not a date such as 2026-12-31")]
    [InlineData("publishers:\n  sigstore:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", until: \"2025-12-31T00:00:00Z\" }\n", 3,
        "until '2025-12-31T00:00:00Z' is not a date")]
    [InlineData("publishers:\n  sigstore:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", until: [2025-12-31] }\n", 3,
        "publishers of 'sigstore': until must be a single value")]
    [InlineData("publishers:\n  sigstore:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", expires: 2025-12-31 }\n", 3,
        "publishers of 'sigstore': unknown key 'expires' (known: publisher, from, until)")]
    [InlineData("publishers:\n  sigstore:\n    - { from: 2025-01-01 }\n", 3, "publishers of 'sigstore': an entry with from/until needs 'publisher:'")]
    [InlineData("publishers:\n  sigstore:\n    - [github:sigstore/sigstore-python/.github/workflows/release.yml]\n", 3, "publishers of 'sigstore': an entry must be a single value")]
    [InlineData("publishers:\n  sigstore: github:sigstore/sigstore-python/.github/workflows/release.yml\n", 2, "publishers of 'sigstore' must be a list")]
    [InlineData("publishers:\n  \"-bad-\": [\"google:bot@acme.iam.gserviceaccount.com\"]\n", 2, "'-bad-' is not a valid project name")]
    [InlineData("publishers: [sigstore]\n", 1, "publishers must be a mapping")]
    public void Publishers_Invalid_IsRefusedNamingFileLineProjectAndReason(string yaml, long line, string problem)
    {
        AssertNames(Refusal(("policies/publishers.yaml", yaml)), "policies/publishers.yaml", line, problem);
    }

    [Fact]
    public void Publishers_OverLongEntry_IsRefusedAndEchoedShort()
    {
        var entry = "gitlab:acme/" + new string('p', 600) + "/ci.yml";

        var error = Refusal(("policies/publishers.yaml", $"publishers:\n  sigstore: [\"{entry}\"]\n"));

        AssertNames(error, "policies/publishers.yaml", 2, "the publisher is longer than 500 characters");
        Assert.True(error.Message.Length < 200, error.Message);
    }
}
