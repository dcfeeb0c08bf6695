using System.Collections.Frozen;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.SimpleIndex;

namespace CuratedIndex.Tests.Features.Decisions;

/// <summary>The tier 3 rules of the decision function: releases by vetting, files by pin, fail closed on what does not parse.</summary>
public sealed class Tier3DecisionTests
{
    private const string Wheel = "requests-2.31.0-py3-none-any.whl";
    private const string Sdist = "requests-2.31.0.tar.gz";
    private const string WheelSha = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string OtherSha = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private static readonly PolicySnapshot Policy = PolicyLoader.Parse(("test.yaml", """
        environments:
          dev: { tier: 1 }
          ci: { tier: 2 }
          prod: { tier: 3 }
          sandbox: { tier: 3, criteria: safe-to-run }
          guarded: { tier: 3, typosquat: block }
        approve: [requests, evil, acme-tools, flask]
        internal: [acme-]
        deny:
          evil: malware found in 1.0
        """));

    private static EnvironmentPolicy Env(string name) => Policy.Environments[name];

    private static ReleaseVerdict Vetting(string project, string version, bool vetted = true, string criteria = VettingCriteria.SafeToDeploy, params (string Filename, string Sha256)[] files) =>
        new(1, project, ReleaseVettings.NormalizeVersion(version)!, vetted, vetted ? criteria : null, VettingHow.Reviewer, "rita", vetted ? "read it" : "account takeover", false, null,
            new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc),
            files.ToFrozenDictionary(f => f.Filename, f => new PinnedFile(f.Filename, f.Sha256, 100), StringComparer.Ordinal));

    // Keyed as CurationStore keys them: by the release key of the version the decision was recorded under.
    private static ReleaseVettings Vettings(params ReleaseVerdict[] verdicts) =>
        new(verdicts.GroupBy(v => v.Project).ToFrozenDictionary(
                g => g.Key,
                g => g.ToFrozenDictionary(v => ReleaseVettings.ReleaseKey(v.Version)!, StringComparer.Ordinal),
                StringComparer.Ordinal),
            verdicts.Length);

    private static readonly ReleaseVettings VettedWheel = Vettings(Vetting("requests", "2.31.0", files: (Wheel, WheelSha)));

    // Subjects are built as the callers build them: the version is the one the filename names.
    private static Decision File(string environment, string project, string filename, string? upstreamSha256, ReleaseVettings vettings, ReviewerDecisions? reviews = null, DecisionSignals? signals = null) =>
        DecisionFunction.Decide(
            Env(environment),
            Policy,
            reviews ?? ReviewerDecisions.None,
            new DecisionSubject(project, SimplePageRenderer.VersionOf(project, filename), filename),
            new UpstreamFacts(FileSha256: upstreamSha256),
            signals,
            vettings);

    private static Decision Release(string environment, string project, string version, ReleaseVettings vettings, ReviewerDecisions? reviews = null, DecisionSignals? signals = null) =>
        DecisionFunction.Decide(Env(environment), Policy, reviews ?? ReviewerDecisions.None, new DecisionSubject(project, version), UpstreamFacts.None, signals, vettings);

    [Fact]
    public void Release_Vetted_IsVisibleAndSaysHowAndByWhom()
    {
        var decision = Release("prod", "requests", "2.31.0", VettedWheel);

        Assert.True(decision.Visible);
        Assert.Equal("release 2.31.0 of 'requests' is vetted safe-to-deploy by reviewer rita", decision.Reason);
        // Index clients read how, never who.
        Assert.Equal("release 2.31.0 of 'requests' is vetted safe-to-deploy by reviewer", decision.ForIndexClients().Reason);
    }

    [Fact]
    public void Release_NotVetted_IsHidden_WhileAnotherReleaseOfTheProjectIsVetted()
    {
        var decision = Release("prod", "requests", "2.32.0", VettedWheel);

        Assert.Equal(Decision.Hide(DecisionRule.NotVetted, "release 2.32.0 of 'requests' is not vetted for environment 'prod' (tier 3)"), decision);
    }

    [Fact]
    public void Release_Rejected_IsHiddenWithTheReason_AndNoNameForClients()
    {
        var vettings = Vettings(Vetting("requests", "2.31.0", vetted: false));

        var release = Release("prod", "requests", "2.31.0", vettings);
        var file = File("prod", "requests", Wheel, WheelSha, vettings);

        Assert.Equal(DecisionRule.Rejected, release.Rule);
        Assert.Equal("release 2.31.0 of 'requests' was rejected by reviewer rita: account takeover", release.Reason);
        Assert.DoesNotContain("rita", release.ForIndexClients().Reason, StringComparison.Ordinal);
        Assert.Equal(DecisionRule.Rejected, file.Rule);
    }

    [Fact]
    public void Release_VettedByPolicyOrImport_IsVisibleToo()
    {
        var byPolicy = Vetting("requests", "2.31.0", files: (Wheel, WheelSha)) with { How = VettingHow.Policy, Actor = "policy" };
        var byImport = Vetting("requests", "2.30.0") with { How = VettingHow.Import, Actor = "ops", Source = "example.org" };
        var vettings = Vettings(byPolicy, byImport);

        Assert.Equal("release 2.31.0 of 'requests' is vetted safe-to-deploy by policy", Release("prod", "requests", "2.31.0", vettings).Reason);
        Assert.Contains("by import from example.org", Release("prod", "requests", "2.30.0", vettings).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Criteria_SafeToRunVetting_DoesNotSatisfyASafeToDeployEnvironment()
    {
        var vettings = Vettings(Vetting("requests", "2.31.0", criteria: VettingCriteria.SafeToRun, files: (Wheel, WheelSha)));

        var prod = Release("prod", "requests", "2.31.0", vettings);
        var prodFile = File("prod", "requests", Wheel, WheelSha, vettings);
        var sandbox = Release("sandbox", "requests", "2.31.0", vettings);

        Assert.Equal(Decision.Hide(DecisionRule.NotVetted, "release 2.31.0 of 'requests' is vetted safe-to-run only; environment 'prod' requires safe-to-deploy"), prod);
        Assert.False(prodFile.Visible);
        Assert.True(sandbox.Visible);
    }

    [Fact]
    public void Criteria_SafeToDeployVetting_SatisfiesASafeToRunEnvironment()
    {
        Assert.True(Release("sandbox", "requests", "2.31.0", VettedWheel).Visible);
        Assert.True(File("sandbox", "requests", Wheel, WheelSha, VettedWheel).Visible);
    }

    [Fact]
    public void File_PinnedWithTheSameDigest_IsVisible_InAnyHexCase()
    {
        var decision = File("prod", "requests", Wheel, WheelSha.ToUpperInvariant(), VettedWheel);

        Assert.True(decision.Visible);
        Assert.StartsWith($"'{Wheel}' is pinned by sha256 in release 2.31.0 of 'requests'", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void File_NotPinned_IsHiddenUntilVetted()
    {
        var decision = File("prod", "requests", Sdist, OtherSha, VettedWheel);

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.NotPinned, decision.Rule);
        Assert.Contains($"'{Sdist}' is not among the files", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void File_UpstreamDigestDiffersFromThePin_IsNeverServed()
    {
        var decision = File("prod", "requests", Wheel, OtherSha, VettedWheel);

        Assert.Equal(DecisionRule.PinMismatch, decision.Rule);
        Assert.Contains(OtherSha, decision.Reason, StringComparison.Ordinal);
        Assert.Contains(WheelSha, decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void File_UpstreamListsNoDigest_IsHidden_BecauseItsBytesCannotBeCheckedAgainstThePin()
    {
        // Listed from upstream without a sha256, the file would be fetched with nothing to verify it against: fail closed.
        var decision = DecisionFunction.Decide(Env("prod"), Policy, ReviewerDecisions.None, new DecisionSubject("requests", "2.31.0", Wheel), UpstreamFacts.None.ForListedFile(null), null, VettedWheel);

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.PinMismatch, decision.Rule);
        Assert.Contains("without a sha256", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void File_UpstreamDigestNotKnown_IsDecidedByThePinAlone()
    {
        // Null is "not looked up" (a pinned file upstream no longer lists, served from the store): the pin decides.
        Assert.True(File("prod", "requests", Wheel, upstreamSha256: null, VettedWheel).Visible);
    }

    [Fact]
    public void File_OfAReleaseThatIsNotVetted_IsHidden()
    {
        Assert.Equal(DecisionRule.NotVetted, File("prod", "requests", "requests-2.32.0-py3-none-any.whl", WheelSha, VettedWheel).Rule);
    }

    [Theory]
    [InlineData("six-1.17.0-py2.py3-none-any.whl")] // another project's file on this project's page
    [InlineData("requests-2.31.0.pkg")] // an unknown extension
    [InlineData("requests-banana-py3-none-any.whl")] // not a PEP 440 version
    [InlineData("requests-2.31.0-extra.tar.gz")] // an sdist whose version is not PEP 440
    [InlineData("requests.tar.gz")] // no version at all
    public void Filename_ThatDoesNotParse_IsHiddenInTiers2And3_ButNotInTier1(string filename)
    {
        // Even with a vetting that pins that very name.
        var vettings = Vettings(Vetting("requests", "2.31.0", files: [(Wheel, WheelSha), (filename, WheelSha)]));

        var dev = File("dev", "requests", filename, WheelSha, vettings);
        var ci = File("ci", "requests", filename, WheelSha, vettings);
        var prod = File("prod", "requests", filename, WheelSha, vettings);

        Assert.True(dev.Visible);
        Assert.Equal(DecisionRule.Unparseable, ci.Rule);
        Assert.Equal(DecisionRule.Unparseable, prod.Rule);
        Assert.Contains($"'{filename}' does not parse as a distribution of 'requests'", prod.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Filename_ThatParses_IsVisibleInTier2()
    {
        Assert.True(File("ci", "requests", Sdist, null, ReleaseVettings.None).Visible);
    }

    [Fact]
    public void PolicyDeny_WinsOverAVetting()
    {
        var vettings = Vettings(Vetting("evil", "1.0", files: ("evil-1.0-py3-none-any.whl", WheelSha)));

        var release = Release("prod", "evil", "1.0", vettings);
        var file = File("prod", "evil", "evil-1.0-py3-none-any.whl", WheelSha, vettings);

        Assert.Equal(Decision.Hide(DecisionRule.Denied, "denied by policy: malware found in 1.0"), release);
        Assert.Equal(DecisionRule.Denied, file.Rule);
    }

    [Fact]
    public void ReviewerDeny_WinsOverAVetting()
    {
        var reviews = new ReviewerDecisions(
            new Dictionary<string, ReviewerVerdict> { ["flask"] = new(Verdict.Denied, "compromised", "rita", new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc), 1) }
                .ToFrozenDictionary(StringComparer.Ordinal),
            1);
        var vettings = Vettings(Vetting("flask", "3.0.0", files: ("flask-3.0.0-py3-none-any.whl", WheelSha)));

        Assert.Equal(DecisionRule.Denied, File("prod", "flask", "flask-3.0.0-py3-none-any.whl", WheelSha, vettings, reviews).Rule);
    }

    [Fact]
    public void InternalName_WinsOverAVettingAndAnApproval()
    {
        var vettings = Vettings(Vetting("acme-tools", "1.0", files: ("acme_tools-1.0-py3-none-any.whl", WheelSha)));

        Assert.Equal(DecisionRule.Internal, Release("prod", "acme-tools", "1.0", vettings).Rule);
        Assert.Equal(DecisionRule.Internal, File("prod", "acme-tools", "acme_tools-1.0-py3-none-any.whl", WheelSha, vettings).Rule);
    }

    [Fact]
    public void Typosquat_WinsOverAVetting_OfAProjectNobodyApproved()
    {
        // A vetting (say, imported) does not approve a project; a blocked lookalike stays blocked.
        var vettings = Vettings(Vetting("reqeusts", "1.0", files: ("reqeusts-1.0-py3-none-any.whl", WheelSha)));
        var signals = new DecisionSignals(new TyposquatSignal("requests", 0.95, "transposition", "two letters swapped"));

        var guarded = File("guarded", "reqeusts", "reqeusts-1.0-py3-none-any.whl", WheelSha, vettings, signals: signals);
        var prod = File("prod", "reqeusts", "reqeusts-1.0-py3-none-any.whl", WheelSha, vettings, signals: signals);

        Assert.Equal(DecisionRule.Typosquat, guarded.Rule);
        Assert.Equal(DecisionRule.NotApproved, prod.Rule);
    }

    [Fact]
    public void UpstreamQuarantine_WinsOverAVetting()
    {
        var decision = DecisionFunction.Decide(Env("prod"), Policy, ReviewerDecisions.None, new DecisionSubject("requests", "2.31.0", Wheel), new UpstreamFacts("quarantined", WheelSha), null, VettedWheel);

        Assert.Equal(DecisionRule.UpstreamQuarantined, decision.Rule);
    }

    [Theory]
    [InlineData("1.0", "1.0.0")]
    [InlineData("1.0.0", "1.0")]
    [InlineData("1.0", "v1.0")]
    [InlineData("1.0", "1.0.0.0")]
    [InlineData("2.0rc1", "2.0.0-RC1")]
    [InlineData("1.0.post1", "1.0-1")]
    public void VersionSpelling_DoesNotMatter_ForTheReleaseAVettingCovers(string vettedAs, string askedAs)
    {
        var vettings = Vettings(Vetting("requests", vettedAs));

        var decision = Release("prod", "requests", askedAs, vettings);

        Assert.True(decision.Visible, decision.Reason);
        Assert.NotNull(vettings.For("requests", askedAs));
    }

    [Fact]
    public void VersionSpelling_OfAFilename_FindsItsRelease()
    {
        // A vetting recorded as 1.0 pins a file whose name spells the version 1.0.0 (PyPI treats them as one release).
        var vettings = Vettings(Vetting("requests", "1.0", files: ("requests-1.0.0-py3-none-any.whl", WheelSha)));

        Assert.True(File("prod", "requests", "requests-1.0.0-py3-none-any.whl", WheelSha, vettings).Visible);
    }

    [Fact]
    public void VersionSpelling_DifferentReleasesStayApart()
    {
        var vettings = Vettings(Vetting("requests", "1.0"));

        Assert.False(Release("prod", "requests", "1.0.1", vettings).Visible);
        Assert.False(Release("prod", "requests", "1.0.post1", vettings).Visible);
        Assert.False(Release("prod", "requests", "1.0rc1", vettings).Visible);
    }

    [Fact]
    public void Tier2_IgnoresVettingsAndRejections()
    {
        var rejected = Vettings(Vetting("requests", "2.31.0", vetted: false));

        Assert.True(Release("ci", "requests", "2.31.0", rejected).Visible);
        Assert.True(File("ci", "requests", Wheel, OtherSha, VettedWheel).Visible);
    }

    [Fact]
    public void Tier3_ProjectPageOfAnApprovedProject_IsVisibleWithoutAnyVetting()
    {
        var decision = DecisionFunction.Decide(Env("prod"), Policy, ReviewerDecisions.None, new DecisionSubject("requests"), UpstreamFacts.None, null, ReleaseVettings.None);

        Assert.True(decision.Visible);
    }

    [Theory]
    [InlineData("1.0.0", "1")]
    [InlineData("1.0", "1")]
    [InlineData("0.0", "0")]
    [InlineData("1.10.0", "1.10")]
    [InlineData("2.0.0rc1", "2rc1")]
    [InlineData("1!2.0.post3.dev4+local.7", "1!2.post3.dev4+local.7")]
    [InlineData("v1.0-1", "1.post1")]
    [InlineData("2.31.0", "2.31")]
    [InlineData("not a version", null)]
    public void ReleaseKey_DropsTrailingZeroReleaseSegmentsOnly(string version, string? key)
    {
        Assert.Equal(key, ReleaseVettings.ReleaseKey(version));
    }
}
