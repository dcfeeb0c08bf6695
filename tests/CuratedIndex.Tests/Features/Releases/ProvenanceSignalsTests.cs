using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// Provenance signals over releases shaped as the fixtures are: pypi-attestations 0.0.19 and sigstore 3.6.1 published by
/// their GitHub release.yml, warehouse's sampleproject and gitlab-oidc-project by GitLab .gitlab-ci.yml, the warehouse
/// Google service account.
/// </summary>
public sealed class ProvenanceSignalsTests
{
    private static readonly PublisherIdentity PypiAttestations = new(PublisherKind.GitHub, "trailofbits/pypi-attestations", "release.yml", null);
    private static readonly PublisherIdentity SigstorePython = new(PublisherKind.GitHub, "sigstore/sigstore-python", "release.yml", null);
    private static readonly PublisherIdentity SampleProject = new(PublisherKind.GitLab, "pep740-example/sampleproject", ".gitlab-ci.yml", null);
    private static readonly PublisherIdentity GoogleAccount = new(PublisherKind.Google, "919436158236-compute@developer.gserviceaccount.com", null, null);

    private static FileProvenanceFacts Verified(string filename, params PublisherIdentity[] publishers) =>
        new(filename, ProvenanceState.Verified, publishers, null);

    private static FileProvenanceFacts Without(string filename) => new(filename, ProvenanceState.None, [], null);

    private static FileProvenanceFacts Pending(string filename) => new(filename, ProvenanceState.Pending, [], null);

    private static FileProvenanceFacts Failed(string filename, string? reason) => new(filename, ProvenanceState.Failed, [], reason);

    /// <summary>pypi-attestations at <paramref name="version"/>, both files verified to <paramref name="publisher"/>.</summary>
    private static ReleaseProvenance Attestations(string version, PublisherIdentity publisher) =>
        new(version, [Verified($"pypi_attestations-{version}-py3-none-any.whl", publisher), Verified($"pypi_attestations-{version}.tar.gz", publisher)]);

    private static ReleaseProvenance Sigstore(string version, params FileProvenanceFacts[] files) => new(version, files);

    private static List<string> Kinds(ReleaseProvenance release, ReleaseProvenance? previousVetted, ReleaseProvenance? previous) =>
        ProvenanceSignals.Detect(release, previousVetted, previous).Select(s => s.Kind).ToList();

    private static AnomalySignal Single(string kind, ReleaseProvenance release, ReleaseProvenance? previousVetted, ReleaseProvenance? previous)
    {
        var signals = ProvenanceSignals.Detect(release, previousVetted, previous);
        var signal = Assert.Single(signals, s => s.Kind == kind);
        Assert.DoesNotContain('\n', signal.Evidence);
        return signal;
    }

    [Fact]
    public void Detect_SamePublisherAsBefore_NoSignal()
    {
        var before = Attestations("0.0.18", PypiAttestations);

        Assert.Empty(ProvenanceSignals.Detect(Attestations("0.0.19", PypiAttestations), before, before));
        // GitHub owner/repo spelled in another case is the same repository.
        Assert.Empty(ProvenanceSignals.Detect(Attestations("0.0.19", PypiAttestations with { Repository = "TrailOfBits/PyPI-Attestations" }), before, before));
    }

    [Fact]
    public void Detect_FirstRelease_NothingToCompare_NoSignal()
    {
        Assert.Empty(ProvenanceSignals.Detect(Attestations("0.0.1", PypiAttestations), null, null));
        Assert.Empty(ProvenanceSignals.Detect(new ReleaseProvenance("0.0.1", [Without("pypi_attestations-0.0.1.tar.gz")]), null, null));
    }

    // provenance-regression

    [Fact]
    public void Regression_FileWithoutProvenance_WherePreviousVettedWasFullyAttested_NamesFilesAndVersion()
    {
        var release = Sigstore("3.6.2", Without("sigstore-3.6.2-py3-none-any.whl"), Verified("sigstore-3.6.2.tar.gz", SigstorePython));
        var vetted = Sigstore("3.6.1", Verified("sigstore-3.6.1-py3-none-any.whl", SigstorePython), Verified("sigstore-3.6.1.tar.gz", SigstorePython));

        var signal = Single(AnomalySignalKind.ProvenanceRegression, release, vetted, vetted);

        Assert.Equal(
            "1 of 2 files of 3.6.2 have no provenance (sigstore-3.6.2-py3-none-any.whl), where every file of 3.6.1, the previous vetted release, had verified provenance (2 files).",
            signal.Evidence);
    }

    [Fact]
    public void Regression_NoProvenanceAtAll_ComparesWithThePreviousVettedNotThePrevious()
    {
        var release = Sigstore("3.6.2", Without("sigstore-3.6.2-py3-none-any.whl"), Without("sigstore-3.6.2.tar.gz"));
        var vetted = Sigstore("3.6.0", Verified("sigstore-3.6.0.tar.gz", SigstorePython));
        var previousUnvetted = Sigstore("3.6.1", Without("sigstore-3.6.1.tar.gz"));

        var signal = Single(AnomalySignalKind.ProvenanceRegression, release, vetted, previousUnvetted);

        Assert.Contains("3.6.0, the previous vetted release", signal.Evidence, StringComparison.Ordinal);
        Assert.Contains("sigstore-3.6.2-py3-none-any.whl, sigstore-3.6.2.tar.gz", signal.Evidence, StringComparison.Ordinal);
        // The previous release had none either, but the regression is against what was vetted.
        Assert.Equal([AnomalySignalKind.ProvenanceRegression], Kinds(release, vetted, previousUnvetted));
        Assert.Empty(Kinds(release, null, Sigstore("3.6.1", Verified("sigstore-3.6.1.tar.gz", SigstorePython))));
    }

    [Fact]
    public void Regression_PreviousVettedHadNoProvenance_NoSignal()
    {
        var release = Sigstore("3.6.2", Without("sigstore-3.6.2.tar.gz"));

        Assert.Empty(Kinds(release, Sigstore("3.6.1", Without("sigstore-3.6.1.tar.gz")), null));
        Assert.Empty(Kinds(release, Sigstore("3.6.1", Pending("sigstore-3.6.1.tar.gz")), null));
        Assert.Empty(Kinds(release, Sigstore("3.6.1", Failed("sigstore-3.6.1.tar.gz", "bad signature")), null));
    }

    [Fact]
    public void Regression_PreviousVettedPartlyAttested_OnlyLosingProvenanceOnEveryFileIsARegression()
    {
        // An sdist attested by release.yml, wheels built elsewhere without provenance: the usual shape stays quiet.
        var vetted = Sigstore("3.6.1", Verified("sigstore-3.6.1.tar.gz", SigstorePython), Without("sigstore-3.6.1-cp312-cp312-manylinux_2_17_x86_64.whl"));
        var usual = Sigstore("3.6.2", Verified("sigstore-3.6.2.tar.gz", SigstorePython), Without("sigstore-3.6.2-cp312-cp312-manylinux_2_17_x86_64.whl"));
        var stillChecking = Sigstore("3.6.2", Pending("sigstore-3.6.2.tar.gz"), Without("sigstore-3.6.2-cp312-cp312-manylinux_2_17_x86_64.whl"));
        var lost = Sigstore("3.6.2", Without("sigstore-3.6.2.tar.gz"), Without("sigstore-3.6.2-cp312-cp312-manylinux_2_17_x86_64.whl"));

        Assert.Empty(Kinds(usual, vetted, vetted));
        Assert.Empty(Kinds(stillChecking, vetted, vetted));
        Assert.Equal(
            "No file of 3.6.2 has provenance (sigstore-3.6.2.tar.gz, sigstore-3.6.2-cp312-cp312-manylinux_2_17_x86_64.whl), where 1 of 2 files of 3.6.1, the previous vetted release, had verified provenance.",
            Single(AnomalySignalKind.ProvenanceRegression, lost, vetted, vetted).Evidence);
    }

    [Fact]
    public void Regression_PendingFilesOfThePreviousVettedAreNotCounted()
    {
        var vetted = Sigstore("3.6.1", Verified("sigstore-3.6.1.tar.gz", SigstorePython), Pending("sigstore-3.6.1-py3-none-any.whl"));
        var release = Sigstore("3.6.2", Verified("sigstore-3.6.2.tar.gz", SigstorePython), Without("sigstore-3.6.2-py3-none-any.whl"));

        Assert.Contains("had verified provenance (1 file).", Single(AnomalySignalKind.ProvenanceRegression, release, vetted, vetted).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Pending_NeverRaisesASignal()
    {
        var vetted = Attestations("0.0.18", PypiAttestations);
        var release = new ReleaseProvenance("0.0.19", [Pending("pypi_attestations-0.0.19-py3-none-any.whl"), Pending("pypi_attestations-0.0.19.tar.gz")]);

        Assert.Empty(ProvenanceSignals.Detect(release, vetted, vetted));
    }

    // publisher-changed

    [Fact]
    public void PublisherChanged_AnotherRepository_NamesFilesBothIdentitiesAndVersions()
    {
        var release = Attestations("0.0.20", PypiAttestations with { Repository = "trai1ofbits/pypi-attestations" });
        var previous = Attestations("0.0.19", PypiAttestations);

        var signal = Single(AnomalySignalKind.PublisherChanged, release, previous, previous);

        Assert.Equal(
            "0.0.20: pypi_attestations-0.0.20-py3-none-any.whl, pypi_attestations-0.0.20.tar.gz published by "
            + "github:trai1ofbits/pypi-attestations/.github/workflows/release.yml (another repository, was trailofbits/pypi-attestations), "
            + "where 0.0.19 was published by github:trailofbits/pypi-attestations/.github/workflows/release.yml.",
            signal.Evidence);
        Assert.Equal([AnomalySignalKind.PublisherChanged], Kinds(release, previous, previous));
    }

    [Fact]
    public void PublisherChanged_AnotherWorkflow_Raised_WorkflowCaseMatters()
    {
        var previous = Attestations("0.0.19", PypiAttestations);

        Assert.Contains(
            "(another workflow, was release.yml)",
            Single(AnomalySignalKind.PublisherChanged, Attestations("0.0.20", PypiAttestations with { Workflow = "debug.yml" }), previous, previous).Evidence,
            StringComparison.Ordinal);
        Assert.Contains(
            "(another workflow, was release.yml)",
            Single(AnomalySignalKind.PublisherChanged, Attestations("0.0.20", PypiAttestations with { Workflow = "Release.yml" }), previous, previous).Evidence,
            StringComparison.Ordinal);
    }

    [Fact]
    public void PublisherChanged_AnotherEnvironment_OrEnvironmentDropped_Raised()
    {
        var previous = Attestations("3.6.0", SigstorePython with { Environment = "release" });

        Assert.Contains(
            "(another environment: none, was release)",
            Single(AnomalySignalKind.PublisherChanged, Attestations("3.6.1", SigstorePython), previous, previous).Evidence,
            StringComparison.Ordinal);
        Assert.Contains(
            "(another environment: staging, was release)",
            Single(AnomalySignalKind.PublisherChanged, Attestations("3.6.1", SigstorePython with { Environment = "staging" }), previous, previous).Evidence,
            StringComparison.Ordinal);
        // GitHub environments are one environment whatever the case; GitLab's are exact.
        Assert.Empty(Kinds(Attestations("3.6.1", SigstorePython with { Environment = "Release" }), previous, previous));
        var gitlab = Attestations("1.0.0", SampleProject with { Environment = "release" });
        Assert.Equal([AnomalySignalKind.PublisherChanged], Kinds(Attestations("1.0.1", SampleProject with { Environment = "Release" }), gitlab, gitlab));
    }

    [Fact]
    public void PublisherChanged_OneNewPublisherBesideTheOldOne_Raised()
    {
        var previous = Attestations("0.0.19", PypiAttestations);
        var release = new ReleaseProvenance("0.0.20",
        [
            Verified("pypi_attestations-0.0.20-py3-none-any.whl", PypiAttestations),
            Verified("pypi_attestations-0.0.20.tar.gz", PypiAttestations, PypiAttestations with { Workflow = "sneaky.yml" }),
        ]);

        var signal = Single(AnomalySignalKind.PublisherChanged, release, previous, previous);

        Assert.StartsWith("0.0.20: pypi_attestations-0.0.20.tar.gz published by github:trailofbits/pypi-attestations/.github/workflows/sneaky.yml", signal.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void PublisherChanged_PreviousWithoutProvenance_ComparesWithThePreviousVetted()
    {
        var vetted = Attestations("0.0.18", PypiAttestations);
        var previous = new ReleaseProvenance("0.0.19", [Without("pypi_attestations-0.0.19.tar.gz")]);
        var release = Attestations("0.0.20", SigstorePython);

        var signal = Single(AnomalySignalKind.PublisherChanged, release, vetted, previous);

        Assert.EndsWith("where 0.0.18 was published by github:trailofbits/pypi-attestations/.github/workflows/release.yml.", signal.Evidence, StringComparison.Ordinal);
        // Neither has verified provenance: nothing to compare the publisher with.
        Assert.Empty(Kinds(release, null, previous));
        Assert.Empty(Kinds(release, new ReleaseProvenance("0.0.18", [Without("pypi_attestations-0.0.18.tar.gz")]), previous));
    }

    [Fact]
    public void PublisherChanged_ComparesWithThePreviousReleaseBeforeThePreviousVetted()
    {
        // 0.0.19 (unvetted) already moved to sigstore-python; 0.0.20 keeps it: no change against the previous release.
        var vetted = Attestations("0.0.18", PypiAttestations);
        var previous = Attestations("0.0.19", SigstorePython);

        Assert.Empty(Kinds(Attestations("0.0.20", SigstorePython), vetted, previous));
        Assert.Equal([AnomalySignalKind.PublisherChanged], Kinds(Attestations("0.0.19", SigstorePython), vetted, vetted));
    }

    // publisher-kind-changed

    [Fact]
    public void PublisherKindChanged_GitHubToGitLab_RaisedInsteadOfPublisherChanged()
    {
        var previous = Attestations("0.0.19", PypiAttestations);
        var release = new ReleaseProvenance("0.0.20", [Verified("pypi_attestations-0.0.20.tar.gz", SampleProject)]);

        var signal = Single(AnomalySignalKind.PublisherKindChanged, release, previous, previous);

        Assert.Equal(
            "0.0.20: pypi_attestations-0.0.20.tar.gz published through GitLab by gitlab:pep740-example/sampleproject/.gitlab-ci.yml, "
            + "where 0.0.19 was published through GitHub only (github:trailofbits/pypi-attestations/.github/workflows/release.yml).",
            signal.Evidence);
        Assert.Equal([AnomalySignalKind.PublisherKindChanged], Kinds(release, previous, previous));
    }

    [Fact]
    public void PublisherKindChanged_GitLabToGoogle_AndGoogleAccountChanged()
    {
        var gitlab = new ReleaseProvenance("1.0.0", [Verified("sampleproject-1.0.0.tar.gz", SampleProject)]);
        var google = new ReleaseProvenance("1.0.1", [Verified("sampleproject-1.0.1.tar.gz", GoogleAccount)]);
        var otherAccount = new ReleaseProvenance("1.0.2", [Verified("sampleproject-1.0.2.tar.gz", GoogleAccount with { Repository = "release@attacker.iam.gserviceaccount.com" })]);

        Assert.Contains("published through Google by google:919436158236-compute@developer.gserviceaccount.com", Single(AnomalySignalKind.PublisherKindChanged, google, gitlab, gitlab).Evidence, StringComparison.Ordinal);
        Assert.Contains("(another service account, was 919436158236-compute@developer.gserviceaccount.com)", Single(AnomalySignalKind.PublisherChanged, otherAccount, google, google).Evidence, StringComparison.Ordinal);
        Assert.Empty(Kinds(google with { Files = [Verified("sampleproject-1.0.2.tar.gz", GoogleAccount with { Repository = "919436158236-COMPUTE@developer.gserviceaccount.com" })] }, google, google));
    }

    [Fact]
    public void PublisherKindChanged_AndPublisherChanged_BothRaisedForTwoNewPublishers()
    {
        var previous = Attestations("0.0.19", PypiAttestations);
        var release = new ReleaseProvenance("0.0.20",
        [
            Verified("pypi_attestations-0.0.20-py3-none-any.whl", SigstorePython),
            Verified("pypi_attestations-0.0.20.tar.gz", SampleProject),
        ]);

        Assert.Equal([AnomalySignalKind.PublisherChanged, AnomalySignalKind.PublisherKindChanged], Kinds(release, previous, previous));
    }

    // provenance-failed

    [Fact]
    public void Failed_NamesEachFileWithItsReason_OnOneLine()
    {
        var release = Sigstore("3.6.2",
            Failed("sigstore-3.6.2.tar.gz", "the DSSE signature does not verify with the leaf certificate's key"),
            Failed("sigstore-3.6.2-py3-none-any.whl", "the statement's subject is sigstore-3.6.1-py3-none-any.whl,\nnot this file"),
            Failed("sigstore-3.6.2-py2-none-any.whl", null),
            Verified("sigstore-3.6.2-py3.whl", SigstorePython));

        var signal = Single(AnomalySignalKind.ProvenanceFailed, release, null, null);

        Assert.Equal(
            "3 of 4 files of 3.6.2 failed provenance verification: sigstore-3.6.2.tar.gz: the DSSE signature does not verify with the leaf certificate's key; "
            + "sigstore-3.6.2-py3-none-any.whl: the statement's subject is sigstore-3.6.1-py3-none-any.whl, not this file; "
            + "sigstore-3.6.2-py2-none-any.whl: no reason recorded.",
            signal.Evidence);
    }

    [Fact]
    public void Failed_ManyFilesAndLongReasons_AreCut()
    {
        var files = Enumerable.Range(1, 7).Select(i => Failed($"demo-1.0-{i}-py3-none-any.whl", new string('x', 300))).ToArray();

        var evidence = Single(AnomalySignalKind.ProvenanceFailed, new ReleaseProvenance("1.0", files), null, null).Evidence;

        Assert.EndsWith("; and 2 more.", evidence, StringComparison.Ordinal);
        Assert.Contains(new string('x', 200) + "…", evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 201), evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-1.0-6-py3", evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_WithRegressionAndChange_AllInTheOrderOfAll()
    {
        var vetted = Sigstore("3.6.1", Verified("sigstore-3.6.1-py3-none-any.whl", SigstorePython), Verified("sigstore-3.6.1.tar.gz", SigstorePython));
        var release = Sigstore("3.6.2",
            Without("sigstore-3.6.2-py3-none-any.whl"),
            Failed("sigstore-3.6.2.tar.gz", "the inclusion proof does not lead to the checkpoint's root hash"),
            Verified("sigstore-3.6.2-py2.py3-none-any.whl", SigstorePython with { Repository = "sigstore/sigstore-pyth0n" }),
            Verified("sigstore-3.6.2.zip", SampleProject));

        var kinds = Kinds(release, vetted, vetted);

        Assert.Equal(
            [AnomalySignalKind.ProvenanceRegression, AnomalySignalKind.PublisherChanged, AnomalySignalKind.PublisherKindChanged, AnomalySignalKind.ProvenanceFailed],
            kinds);
        Assert.Equal(kinds, AnomalySignalKind.All.Where(kinds.Contains));
    }

    [Fact]
    public void Detect_PreviousWithTheSameVersion_IsIgnored()
    {
        var release = Sigstore("3.6.1", Without("sigstore-3.6.1.tar.gz"), Verified("sigstore-3.6.1-py3-none-any.whl", SampleProject));
        var itself = Sigstore("3.6.1", Verified("sigstore-3.6.1.tar.gz", SigstorePython));

        Assert.Empty(Kinds(release, itself, itself));
    }
}
