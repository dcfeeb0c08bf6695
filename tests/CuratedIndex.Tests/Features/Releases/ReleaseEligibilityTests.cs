using CuratedIndex.Data;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using Microsoft.Extensions.Time.Testing;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// <see cref="ReleaseVetting.Eligibility"/>: the cooldown clock (moved by a <see cref="FakeTimeProvider"/>), the vet-cutoff and
/// the anomaly signals, for each way a release gets vetted.
/// </summary>
public sealed class ReleaseEligibilityTests
{
    private static readonly DateTimeOffset FirstSight = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    // prod's 7 days and eu's 14 are tier 3 cooldowns; ci's 30 days are not (tier 2 shows releases without vetting).
    private static PolicySnapshot Policy(string more = "") => PolicyLoader.Parse(("test.yaml", """
        environments:
          ci: { tier: 2, cooldown: 30d }
          prod: { tier: 3, cooldown: 7d }
          eu: { tier: 3, cooldown: 14d }
        """ + "\n" + more));

    private static SeenRelease Seen(DateTimeOffset firstSeen, DateTimeOffset? uploaded) =>
        new() { Project = "zipp", Version = "3.8.0", FirstSeenAt = firstSeen.UtcDateTime, UploadedAt = uploaded?.UtcDateTime };

    private static ReleaseSignal Signal(string kind, string evidence) =>
        new() { Project = "zipp", Version = "3.8.0", Kind = kind, Evidence = evidence, DetectedAt = FirstSight.UtcDateTime };

    private static ReleaseVetting.Waiting? Eligibility(PolicySnapshot policy, SeenRelease? seen, FakeTimeProvider clock, string how = VettingHow.Policy, string project = "zipp", params ReleaseSignal[] signals) =>
        ReleaseVetting.Eligibility(policy, project, seen, signals, how, clock.GetUtcNow().UtcDateTime);

    [Fact]
    public void Cooldown_CountsFromFirstSight_WhenUpstreamClaimsAnOldUploadTime()
    {
        // The upload time can be forged on the way: a year-old claim must not make a brand-new release eligible.
        var clock = new FakeTimeProvider(FirstSight);
        var seen = Seen(FirstSight, uploaded: FirstSight.AddYears(-1));
        var policy = Policy();

        var atSight = Eligibility(policy, seen, clock);
        clock.Advance(TimeSpan.FromDays(14) - TimeSpan.FromSeconds(1));
        var justBefore = Eligibility(policy, seen, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        var atTheEnd = Eligibility(policy, seen, clock);

        Assert.NotNull(atSight);
        Assert.Contains("inside its cooldown of 14d until 2026-12-15 12:00 UTC (counted from 2026-12-01 12:00 UTC", atSight.Reason, StringComparison.Ordinal);
        Assert.NotNull(justBefore);
        Assert.Null(atTheEnd);
    }

    [Fact]
    public void Cooldown_CountsFromTheUploadTime_WhenItIsLaterThanFirstSight()
    {
        // A clock skewed into the future upstream: the later of the two counts, so the cooldown is never shortened.
        var clock = new FakeTimeProvider(FirstSight);
        var seen = Seen(FirstSight, uploaded: FirstSight.AddDays(2));
        var policy = Policy();

        clock.Advance(TimeSpan.FromDays(14));
        var afterFourteenDaysFromSight = Eligibility(policy, seen, clock);
        clock.Advance(TimeSpan.FromDays(2));
        var afterFourteenDaysFromUpload = Eligibility(policy, seen, clock);

        Assert.NotNull(afterFourteenDaysFromSight);
        Assert.Contains("counted from 2026-12-03 12:00 UTC", afterFourteenDaysFromSight.Reason, StringComparison.Ordinal);
        Assert.Null(afterFourteenDaysFromUpload);
    }

    [Fact]
    public void Cooldown_IsTheLongestTier3EnvironmentCooldown_NotATier2One()
    {
        var policy = Policy();

        Assert.Equal(TimeSpan.FromDays(14), policy.CooldownFor("zipp"));
    }

    [Fact]
    public void Cooldown_PerProject_OverridesTheEnvironments_ShorterOrLonger()
    {
        var clock = new FakeTimeProvider(FirstSight);
        var policy = Policy("cooldown:\n  zipp: 1d\n  Six: 30d\n  attrs: 0d\n");
        var seen = Seen(FirstSight, uploaded: null);

        var zippAtOnce = Eligibility(policy, seen, clock);
        var attrsAtOnce = Eligibility(policy, seen, clock, project: "attrs");
        clock.Advance(TimeSpan.FromDays(1));
        var zippAfterADay = Eligibility(policy, seen, clock);
        clock.Advance(TimeSpan.FromDays(20));
        var sixAfter21Days = Eligibility(policy, seen, clock, project: "six");
        var otherAfter21Days = Eligibility(policy, seen, clock, project: "other");

        Assert.Contains("cooldown of 1d", zippAtOnce!.Reason, StringComparison.Ordinal);
        Assert.Null(attrsAtOnce);
        Assert.Null(zippAfterADay);
        Assert.Contains("cooldown of 30d", sixAfter21Days!.Reason, StringComparison.Ordinal);
        Assert.Null(otherAfter21Days);
    }

    [Theory]
    [InlineData(VettingHow.Policy, false)]
    [InlineData(VettingHow.Auto, false)]
    [InlineData(VettingHow.Reviewer, true)]
    public void Cooldown_StopsPolicyAutoAndReviewers_AndOnlyAReviewerMayBreakGlass(string how, bool mayBreakGlass)
    {
        var clock = new FakeTimeProvider(FirstSight.AddDays(1));

        var waiting = Eligibility(Policy(), Seen(FirstSight, null), clock, how);

        Assert.NotNull(waiting);
        Assert.Contains("inside its cooldown", waiting.Reason, StringComparison.Ordinal);
        Assert.Equal(mayBreakGlass, waiting.BreakGlassMayOverride);
    }

    [Fact]
    public void Import_IsHeldByNeitherTheCooldownNorTheCutoffNorSignals()
    {
        // An import is another organization's review of the same bytes; it is not automatic, so neither cut-off nor signals stop it.
        var clock = new FakeTimeProvider(FirstSight.AddHours(1));
        var policy = Policy("vet-cutoff: 2026-11-01\n");

        Assert.Null(Eligibility(policy, Seen(FirstSight, null), clock, VettingHow.Import, "zipp", Signal(AnomalySignalKind.VersionJump, "1.0 to 9.0")));
    }

    [Fact]
    public void NoCooldownAnywhere_NothingWaits()
    {
        var policy = PolicyLoader.Parse(("test.yaml", "environments:\n  prod: { tier: 3 }\n"));

        Assert.Null(Eligibility(policy, Seen(FirstSight, null), new FakeTimeProvider(FirstSight)));
    }

    [Theory]
    [InlineData(VettingHow.Policy, true)]
    [InlineData(VettingHow.Auto, true)]
    [InlineData(VettingHow.Reviewer, false)]
    [InlineData(VettingHow.Import, false)]
    public void VetCutoff_StopsPolicyAndAutomaticVetting_OfReleasesFirstSeenAfterIt_ButNotReviewers(string how, bool stopped)
    {
        var policy = Policy("vet-cutoff: 2026-12-01\ncooldown:\n  zipp: 0d\n");
        var clock = new FakeTimeProvider(FirstSight.AddDays(60));

        var after = Eligibility(policy, Seen(FirstSight, uploaded: FirstSight.AddDays(-30)), clock, how);

        Assert.Equal(stopped, after is not null);
        if (after is not null)
        {
            Assert.Contains("after the vet-cutoff 2026-12-01 00:00 UTC", after.Reason, StringComparison.Ordinal);
            Assert.False(after.BreakGlassMayOverride);
        }
    }

    [Fact]
    public void VetCutoff_DoesNotStopAReleaseFirstSeenBeforeOrAtIt()
    {
        var policy = Policy("vet-cutoff: 2026-12-01T12:00:00Z\ncooldown:\n  zipp: 0d\n");
        var clock = new FakeTimeProvider(FirstSight.AddDays(60));

        Assert.Null(Eligibility(policy, Seen(FirstSight, null), clock));
        Assert.Null(Eligibility(policy, Seen(FirstSight.AddHours(-1), null), clock));
        Assert.NotNull(Eligibility(policy, Seen(FirstSight.AddSeconds(1), null), clock));
    }

    [Theory]
    [InlineData(VettingHow.Policy, true)]
    [InlineData(VettingHow.Auto, true)]
    [InlineData(VettingHow.Reviewer, false)]
    public void AnySignal_StopsPolicyAndAutomaticVetting_NamingIt_ButNotReviewers(string how, bool stopped)
    {
        var clock = new FakeTimeProvider(FirstSight.AddDays(60));
        var signal = Signal(AnomalySignalKind.InstallTimeCode, "Only source distributions (zipp-3.8.0.tar.gz)");

        var waiting = Eligibility(Policy(), Seen(FirstSight, null), clock, how, signals: signal);

        Assert.Equal(stopped, waiting is not null);
        if (waiting is not null)
        {
            Assert.Contains($"anomaly signals stop {how} vetting: install-time-code: Only source distributions (zipp-3.8.0.tar.gz)", waiting.Reason, StringComparison.Ordinal);
            Assert.False(waiting.BreakGlassMayOverride);
        }
    }

    [Fact]
    public void Signals_AreAllNamed()
    {
        var clock = new FakeTimeProvider(FirstSight.AddDays(60));

        var waiting = Eligibility(Policy(), Seen(FirstSight, null), clock, VettingHow.Policy, "zipp",
            Signal(AnomalySignalKind.VersionJump, "3.8.0 follows 1.0"), Signal(AnomalySignalKind.DormantRevived, "silent for 3 years"));

        Assert.Contains("version-jump: 3.8.0 follows 1.0; dormant-revived: silent for 3 years", waiting!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BreakGlass_OverridesOnlyTheCooldown_NeverASignalOrTheCutoffForPolicy()
    {
        // Inside the cooldown, first seen after the cut-off, with a signal: policy is stopped, and break-glass cannot help it.
        var policy = Policy("vet-cutoff: 2026-11-01\n");
        var clock = new FakeTimeProvider(FirstSight.AddDays(1));
        var seen = Seen(FirstSight, null);
        var signal = Signal(AnomalySignalKind.SizeChanged, "30x larger");

        var policyWait = Eligibility(policy, seen, clock, VettingHow.Policy, "zipp", signal);
        var reviewerWait = Eligibility(policy, seen, clock, VettingHow.Reviewer, "zipp", signal);
        clock.Advance(TimeSpan.FromDays(14));
        var reviewerLater = Eligibility(policy, seen, clock, VettingHow.Reviewer, "zipp", signal);
        var policyLater = Eligibility(policy, seen, clock, VettingHow.Policy, "zipp");

        Assert.False(policyWait!.BreakGlassMayOverride);
        Assert.Contains("size-changed", policyWait.Reason, StringComparison.Ordinal);
        // For a reviewer only the cooldown stands in the way, and that is what break-glass may override.
        Assert.True(reviewerWait!.BreakGlassMayOverride);
        Assert.Contains("inside its cooldown", reviewerWait.Reason, StringComparison.Ordinal);
        Assert.Null(reviewerLater);
        Assert.Contains("vet-cutoff", policyLater!.Reason, StringComparison.Ordinal);
        Assert.False(policyLater.BreakGlassMayOverride);
    }

    [Fact]
    public void NeverSeen_CountsFromNow()
    {
        var clock = new FakeTimeProvider(FirstSight);

        var waiting = Eligibility(Policy(), seen: null, clock, VettingHow.Reviewer);

        Assert.Contains("until 2026-12-15 12:00 UTC", waiting!.Reason, StringComparison.Ordinal);
    }
}
