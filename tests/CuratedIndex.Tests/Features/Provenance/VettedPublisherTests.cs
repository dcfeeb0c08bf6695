using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// Vetted publisher entries, parsed and matched against identities shaped as the fixtures' certificates prove them:
/// pypi-attestations 0.0.19 and sigstore 3.6.1 (GitHub release.yml), warehouse's sampleproject and
/// facutuesca/gitlab-oidc-project (GitLab .gitlab-ci.yml), the warehouse Google service account.
/// </summary>
public sealed class VettedPublisherTests
{
    private static readonly PublisherIdentity PypiAttestations = new(PublisherKind.GitHub, "trailofbits/pypi-attestations", "release.yml", null);
    private static readonly PublisherIdentity SigstorePython = new(PublisherKind.GitHub, "sigstore/sigstore-python", "release.yml", null);
    private static readonly PublisherIdentity SampleProject = new(PublisherKind.GitLab, "pep740-example/sampleproject", ".gitlab-ci.yml", null);
    private static readonly PublisherIdentity GitLabOidc = new(PublisherKind.GitLab, "facutuesca/gitlab-oidc-project", ".gitlab-ci.yml", null);
    private static readonly PublisherIdentity GoogleAccount = new(PublisherKind.Google, "919436158236-compute@developer.gserviceaccount.com", null, null);

    private static readonly DateTimeOffset Uploaded = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static VettedPublisher Parse(string text, DateOnly? from = null, DateOnly? until = null)
    {
        Assert.True(VettedPublisher.TryParse(text, from, until, out var publisher, out var error), error);
        Assert.Equal("", error);
        return publisher;
    }

    private static string Refusal(string text, DateOnly? from = null, DateOnly? until = null)
    {
        Assert.False(VettedPublisher.TryParse(text, from, until, out var publisher, out var error));
        Assert.Null(publisher);
        Assert.DoesNotContain('\n', error);
        return error;
    }

    [Theory]
    [InlineData("github:trailofbits/pypi-attestations/.github/workflows/release.yml", PublisherKind.GitHub, "trailofbits/pypi-attestations/.github/workflows/release.yml", null)]
    [InlineData("github:sigstore/sigstore-python/.github/workflows/release.yml@pypi", PublisherKind.GitHub, "sigstore/sigstore-python/.github/workflows/release.yml", "pypi")]
    [InlineData("github:Owner-1/My.Repo_x/.github/workflows/publish.yaml@release-prod", PublisherKind.GitHub, "Owner-1/My.Repo_x/.github/workflows/publish.yaml", "release-prod")]
    [InlineData("gitlab:pep740-example/sampleproject/.gitlab-ci.yml", PublisherKind.GitLab, "pep740-example/sampleproject/.gitlab-ci.yml", null)]
    [InlineData("gitlab:acme/platform/tools/pkg/ci/release.yaml@production", PublisherKind.GitLab, "acme/platform/tools/pkg/ci/release.yaml", "production")]
    [InlineData("google:919436158236-compute@developer.gserviceaccount.com", PublisherKind.Google, "919436158236-compute@developer.gserviceaccount.com", null)]
    [InlineData("google:release-bot@acme-prod.iam.gserviceaccount.com", PublisherKind.Google, "release-bot@acme-prod.iam.gserviceaccount.com", null)]
    public void TryParse_EachForm_ReadsKindPathEnvironmentAndRoundTrips(string text, PublisherKind kind, string path, string? environment)
    {
        var publisher = Parse(text);

        Assert.Equal(kind, publisher.Kind);
        Assert.Equal(path, publisher.Path);
        Assert.Equal(environment, publisher.Environment);
        Assert.Equal(text, publisher.ToString());
        Assert.Equal(text, Parse(publisher.ToString()).ToString());
    }

    [Fact]
    public void TryParse_KindInAnyCase_IsWrittenInLowerCase()
    {
        Assert.Equal("github:psf/requests/.github/workflows/publish.yml", Parse("GitHub:psf/requests/.github/workflows/publish.yml").ToString());
        Assert.Equal(PublisherKind.Google, Parse("GOOGLE:bot@example.iam.gserviceaccount.com").Kind);
    }

    [Fact]
    public void TryParse_Dates_AreKept_AndTheSameDayIsAWindow()
    {
        var publisher = Parse("github:psf/requests/.github/workflows/publish.yml", new DateOnly(2025, 1, 1), new DateOnly(2025, 1, 1));

        Assert.Equal(new DateOnly(2025, 1, 1), publisher.From);
        Assert.Equal(new DateOnly(2025, 1, 1), publisher.Until);
    }

    [Theory]
    [InlineData("", "the publisher is empty")]
    [InlineData("psf/requests/.github/workflows/publish.yml", "must start with github:, gitlab: or google:")]
    [InlineData(":psf/requests/.github/workflows/publish.yml", "must start with github:, gitlab: or google:")]
    [InlineData("bitbucket:psf/requests/pipelines.yml", "unknown publisher kind 'bitbucket' (known: github, gitlab, google)")]
    [InlineData("activestate:psf/requests", "unknown publisher kind 'activestate'")]
    [InlineData("github:psf/requests", "the workflow path is missing")]
    [InlineData("github:psf/requests/", "the workflow path is missing")]
    [InlineData("github:psf", "does not start with owner/repo")]
    [InlineData("github:/requests/.github/workflows/publish.yml", "does not start with owner/repo")]
    [InlineData("github:psf/requests/publish.yml", "the workflow 'publish.yml' is not under .github/workflows/")]
    [InlineData("github:psf/requests/.github/publish.yml", "the workflow '.github/publish.yml' is not under .github/workflows/")]
    [InlineData("github:psf/requests/.GitHub/Workflows/publish.yml", "is not under .github/workflows/")]
    [InlineData("github:psf/requests/.github/workflows/release/publish.yml", "is not directly under .github/workflows/")]
    [InlineData("github:psf/requests/.github/workflows/", "the workflow file '' does not end in .yml or .yaml")]
    [InlineData("github:psf/requests/.github/workflows/publish.sh", "the workflow file 'publish.sh' does not end in .yml or .yaml")]
    [InlineData("github:psf/requests/.github/workflows/.yml", "the workflow file '.yml' does not end in .yml or .yaml")]
    [InlineData("github:psf/requests/.github/workflows/publish.YML", "does not end in .yml or .yaml")]
    [InlineData("github:-psf/requests/.github/workflows/publish.yml", "'-psf' is not a GitHub owner")]
    [InlineData("github:ps_f/requests/.github/workflows/publish.yml", "'ps_f' is not a GitHub owner")]
    [InlineData("github:psf/re:quests/.github/workflows/publish.yml", "'re:quests' is not a GitHub repository name")]
    [InlineData("github:psf/../.github/workflows/publish.yml", "'..' is not a GitHub repository name")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml@", "the environment after '@' is empty")]
    [InlineData("gitlab:pep740-example/sampleproject/.gitlab-ci.yml@", "the environment after '@' is empty")]
    [InlineData("gitlab:pep740-example/sampleproject", "the CI file path is missing")]
    [InlineData("gitlab:sampleproject", "the CI file path is missing")]
    [InlineData("gitlab:pep740-example//sampleproject/.gitlab-ci.yml", "has an empty segment")]
    [InlineData("gitlab:/pep740-example/sampleproject/.gitlab-ci.yml", "has an empty segment")]
    [InlineData("gitlab:pep740-example/sampleproject/ci/", "has an empty segment")]
    [InlineData("gitlab:pep740-example/sampleproject/../other/.gitlab-ci.yml", "contains '.' or '..'")]
    [InlineData("gitlab:pep740-example/sampleproject/.gitlab-ci.toml", "the CI file '.gitlab-ci.toml' does not end in .yml or .yaml")]
    [InlineData("gitlab:pep740~example/sampleproject/.gitlab-ci.yml", "'pep740~example' is not a GitLab group or project name")]
    [InlineData("google:", "'' is not a service account email")]
    [InlineData("google:release-bot", "'release-bot' is not a service account email")]
    [InlineData("google:@acme.iam.gserviceaccount.com", "is not a service account email")]
    [InlineData("google:bot@localhost", "is not a service account email")]
    [InlineData("google:bot@acme..com", "is not a service account email")]
    [InlineData("google:bot@-acme.com", "is not a service account email")]
    [InlineData("google:bot@acme.iam.gserviceaccount.com@pypi", "is not a service account email")]
    [InlineData("google:bot..x@acme.com", "is not a service account email")]
    [InlineData(" github:psf/requests/.github/workflows/publish.yml", "contains whitespace at position 1")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml@py pi", "contains whitespace at position 53")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml\n", "contains whitespace at position 50")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml\u0000", "contains the control character U+0000 at position 50")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml\u001b[0m", "contains the control character U+001B")]
    [InlineData("github:psf/requests/.github/workflows/publish.yml\u202e", "contains the non-ASCII character U+202E")]
    [InlineData("github:psf/r\u0435quests/.github/workflows/publish.yml", "contains the non-ASCII character U+0435 at position 13")]
    [InlineData("google:bot@acme.iam.gserviceaccount.com\u200b", "contains the non-ASCII character U+200B")]
    public void TryParse_Invalid_IsRefusedWithThePreciseReason(string text, string reason)
    {
        Assert.Contains(reason, Refusal(text), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_OverLong_IsRefused()
    {
        var longest = "gitlab:acme/" + new string('p', VettedPublisher.MaxLength - "gitlab:acme/".Length - "/ci.yml".Length) + "/ci.yml";
        Assert.Equal(VettedPublisher.MaxLength, longest.Length);
        Parse(longest);

        Assert.Equal("the publisher is longer than 500 characters", Refusal(longest.Replace("/ci.yml", "/cix.yml", StringComparison.Ordinal)));
        Assert.Equal(
            "the environment is longer than 255 characters",
            Refusal("github:psf/requests/.github/workflows/publish.yml@" + new string('e', VettedPublisher.MaxEnvironmentLength + 1)));
    }

    [Fact]
    public void TryParse_UntilBeforeFrom_IsRefused()
    {
        Assert.Equal(
            "until 2024-12-31 is before from 2025-01-01",
            Refusal("github:psf/requests/.github/workflows/publish.yml", new DateOnly(2025, 1, 1), new DateOnly(2024, 12, 31)));
    }

    // Matching: GitHub

    [Fact]
    public void Matches_GitHub_OwnerAndRepoIgnoreCase_WorkflowIsExact()
    {
        Assert.True(Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml").Matches(PypiAttestations, Uploaded));
        Assert.True(Parse("github:TrailOfBits/PyPI-Attestations/.github/workflows/release.yml").Matches(PypiAttestations, Uploaded));
        Assert.False(Parse("github:trailofbits/pypi-attestations/.github/workflows/Release.yml").Matches(PypiAttestations, Uploaded));
        Assert.False(Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yaml").Matches(PypiAttestations, Uploaded));
        Assert.False(Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml").Matches(SigstorePython, Uploaded));
        Assert.False(Parse("github:trailofbits/pypi-attestation/.github/workflows/release.yml").Matches(PypiAttestations, Uploaded));
        Assert.False(Parse("github:sigstore/pypi-attestations/.github/workflows/release.yml").Matches(PypiAttestations, Uploaded));
        Assert.False(Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml").Matches(PypiAttestations with { Workflow = null }, Uploaded));
    }

    [Fact]
    public void Matches_EntryWithoutEnvironment_AcceptsAnyEnvironmentOrNone()
    {
        var entry = Parse("github:sigstore/sigstore-python/.github/workflows/release.yml");

        Assert.True(entry.Matches(SigstorePython, Uploaded));
        Assert.True(entry.Matches(SigstorePython with { Environment = "" }, Uploaded));
        Assert.True(entry.Matches(SigstorePython with { Environment = "release" }, Uploaded));
    }

    [Fact]
    public void Matches_EntryWithEnvironment_OnlyThatEnvironment_GitHubIgnoringCase()
    {
        var entry = Parse("github:sigstore/sigstore-python/.github/workflows/release.yml@pypi");

        Assert.True(entry.Matches(SigstorePython with { Environment = "pypi", EnvironmentProven = true }, Uploaded));
        // GitHub environment names are case-insensitive (one environment, whatever the spelling): PyPI compares them so.
        Assert.True(entry.Matches(SigstorePython with { Environment = "PyPI", EnvironmentProven = true }, Uploaded));
        // Stated by the provenance's (unsigned) publisher object but not carried by the certificate: not proven, no match.
        Assert.False(entry.Matches(SigstorePython with { Environment = "pypi" }, Uploaded));
        Assert.False(entry.Matches(SigstorePython, Uploaded));
        Assert.False(entry.Matches(SigstorePython with { Environment = "" }, Uploaded));
        Assert.False(entry.Matches(SigstorePython with { Environment = "pypi-test" }, Uploaded));
        Assert.False(entry.Matches(SigstorePython with { Environment = "pyp" }, Uploaded));
    }

    // Matching: GitLab

    [Fact]
    public void Matches_GitLab_ProjectPathIgnoresCase_CiFilePathIsExact()
    {
        Assert.True(Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml").Matches(SampleProject, Uploaded));
        Assert.True(Parse("gitlab:PEP740-Example/SampleProject/.gitlab-ci.yml").Matches(SampleProject, Uploaded));
        Assert.True(Parse("gitlab:facutuesca/gitlab-oidc-project/.gitlab-ci.yml").Matches(GitLabOidc, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/.GitLab-ci.yml").Matches(SampleProject, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yaml").Matches(SampleProject, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/ci/.gitlab-ci.yml").Matches(SampleProject, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml").Matches(GitLabOidc, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml").Matches(SampleProject with { Workflow = null }, Uploaded));
    }

    [Fact]
    public void Matches_GitLabSubgroups_UseTheIdentitysSplitForTheCaseRules()
    {
        var entry = Parse("gitlab:acme/platform/tools/pkg/ci/release.yml");
        var identity = new PublisherIdentity(PublisherKind.GitLab, "acme/platform/tools/pkg", "ci/release.yml", null);

        Assert.True(entry.Matches(identity, Uploaded));
        Assert.True(Parse("gitlab:ACME/Platform/Tools/PKG/ci/release.yml").Matches(identity, Uploaded));
        // "CI" belongs to the file path in this identity, so its case matters.
        Assert.False(Parse("gitlab:acme/platform/tools/pkg/CI/release.yml").Matches(identity, Uploaded));
        // The same text split elsewhere is the same canonical publisher (GitLab never has a project and a group at one path).
        Assert.True(entry.Matches(identity with { Repository = "acme/platform/tools", Workflow = "pkg/ci/release.yml" }, Uploaded));
        Assert.False(entry.Matches(identity with { Repository = "acme/platform/tools/pkg/ci", Workflow = "release.yaml" }, Uploaded));
        Assert.False(entry.Matches(identity with { Repository = "acme/platform/tool", Workflow = "spkg/ci/release.yml" }, Uploaded));
    }

    [Fact]
    public void Matches_GitLabEnvironment_IsExact()
    {
        var entry = Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml@release");

        Assert.True(entry.Matches(SampleProject with { Environment = "release", EnvironmentProven = true }, Uploaded));
        Assert.False(entry.Matches(SampleProject with { Environment = "Release", EnvironmentProven = true }, Uploaded));
        Assert.False(entry.Matches(SampleProject with { Environment = "release" }, Uploaded));
        Assert.False(entry.Matches(SampleProject, Uploaded));
    }

    // Matching: Google and kinds

    [Fact]
    public void Matches_Google_EmailIgnoresCase()
    {
        Assert.True(Parse("google:919436158236-compute@developer.gserviceaccount.com").Matches(GoogleAccount, Uploaded));
        Assert.True(Parse("google:919436158236-Compute@Developer.GServiceAccount.com").Matches(GoogleAccount, Uploaded));
        Assert.False(Parse("google:919436158237-compute@developer.gserviceaccount.com").Matches(GoogleAccount, Uploaded));
    }

    [Fact]
    public void Matches_AnotherKindWithTheSameText_DoesNotMatch()
    {
        var asGitLab = new PublisherIdentity(PublisherKind.GitLab, "trailofbits/pypi-attestations", ".github/workflows/release.yml", null);
        Assert.Equal("gitlab:trailofbits/pypi-attestations/.github/workflows/release.yml", asGitLab.Canonical);

        Assert.False(Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml").Matches(asGitLab, Uploaded));
        Assert.False(Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml").Matches(SampleProject with { Kind = PublisherKind.GitHub }, Uploaded));
    }

    [Fact]
    public void Matches_EveryFixtureIdentity_ByItsOwnCanonical()
    {
        foreach (var identity in new[] { PypiAttestations, SigstorePython, SampleProject, GitLabOidc, GoogleAccount, SigstorePython with { Environment = "pypi", EnvironmentProven = true } })
        {
            Assert.True(Parse(identity.Canonical).Matches(identity, Uploaded), identity.Canonical);
        }
    }

    // Dates

    [Fact]
    public void Matches_FromIsInclusiveFromMidnightUtc_UntilIsInclusiveThroughTheEndOfItsDay()
    {
        var entry = Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml", new DateOnly(2025, 1, 1), new DateOnly(2025, 12, 31));

        Assert.False(entry.Matches(PypiAttestations, new DateTimeOffset(2024, 12, 31, 23, 59, 59, TimeSpan.Zero)));
        Assert.True(entry.Matches(PypiAttestations, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.True(entry.Matches(PypiAttestations, new DateTimeOffset(2025, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999)));
        Assert.False(entry.Matches(PypiAttestations, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        // Days are UTC days whatever the offset the time is written with.
        Assert.False(entry.Matches(PypiAttestations, new DateTimeOffset(2025, 12, 31, 23, 30, 0, TimeSpan.FromHours(-2))));
        Assert.True(entry.Matches(PypiAttestations, new DateTimeOffset(2025, 1, 1, 1, 30, 0, TimeSpan.FromHours(1))));
        Assert.False(entry.Matches(PypiAttestations, new DateTimeOffset(2025, 1, 1, 0, 30, 0, TimeSpan.FromHours(1))));
    }

    [Fact]
    public void Matches_OpenEndedDates()
    {
        var from = Parse("google:919436158236-compute@developer.gserviceaccount.com", from: new DateOnly(2025, 1, 1));
        var until = Parse("google:919436158236-compute@developer.gserviceaccount.com", until: new DateOnly(2025, 1, 1));

        Assert.True(from.Matches(GoogleAccount, DateTimeOffset.MaxValue));
        Assert.False(from.Matches(GoogleAccount, DateTimeOffset.MinValue));
        Assert.True(until.Matches(GoogleAccount, DateTimeOffset.MinValue));
        Assert.False(until.Matches(GoogleAccount, new DateTimeOffset(2025, 1, 2, 0, 0, 0, TimeSpan.Zero)));
    }

    // Key and Describe

    [Fact]
    public void Key_FoldsOnlyThePartsComparedIgnoringCase()
    {
        Assert.Equal(
            "github:pycqa/flake8/.github/workflows/Release.yml@pypi",
            Parse("github:PyCQA/Flake8/.github/workflows/Release.yml@PyPI").Key);
        Assert.Equal("gitlab:Acme/Pkg/CI.yml@Prod", Parse("gitlab:Acme/Pkg/CI.yml@Prod").Key);
        Assert.Equal("google:bot@acme.iam.gserviceaccount.com", Parse("google:Bot@ACME.iam.gserviceaccount.com").Key);
    }

    [Fact]
    public void Describe_NamesWorkflowRepositoryEnvironmentAndDates()
    {
        Assert.Equal(
            "GitHub workflow release.yml in owner/repo, environment pypi, from 2025-01-01",
            Parse("github:owner/repo/.github/workflows/release.yml@pypi", new DateOnly(2025, 1, 1)).Describe());
        Assert.Equal(
            "GitHub workflow release.yml in trailofbits/pypi-attestations, any environment",
            Parse("github:trailofbits/pypi-attestations/.github/workflows/release.yml").Describe());
        Assert.Equal(
            "GitLab CI configuration pep740-example/sampleproject/.gitlab-ci.yml, environment release, from 2025-01-01 until 2026-12-31",
            Parse("gitlab:pep740-example/sampleproject/.gitlab-ci.yml@release", new DateOnly(2025, 1, 1), new DateOnly(2026, 12, 31)).Describe());
        Assert.Equal(
            "Google service account 919436158236-compute@developer.gserviceaccount.com, until 2026-12-31",
            Parse("google:919436158236-compute@developer.gserviceaccount.com", until: new DateOnly(2026, 12, 31)).Describe());
    }
}
