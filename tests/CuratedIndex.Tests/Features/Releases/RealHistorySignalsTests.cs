using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// Whole real pypi.org histories (Fixtures/releases) replayed release by release, as if CuratedIndex had watched
/// upstream all along. Ordinary stretches raise nothing; the signals that are raised are real events of these
/// projects, each checked here by version and kind.
/// </summary>
public class RealHistorySignalsTests
{
    private static List<string> VersionsAndKinds(string project, DateTime? since = null) =>
        ReleaseHistory.Replay(ReleaseHistory.Load(project))
            .Where(step => step.Release.FirstSeenAt >= (since ?? DateTime.MinValue))
            .SelectMany(step => AnomalySignals.Detect(project, step.Release, step.Earlier).Select(s => $"{step.Release.Version} {s.Kind}"))
            .ToList();

    [Fact]
    public void Pytest_WholeHistory_OnlyThe2015OversizedSdist()
    {
        // 162 releases, 2.0.0 (2010) to 7.4.0 (2023): pure Python, majors 2 → 7 one by one, no post-releases. The one
        // anomaly is real: 2.8.0 shipped an 8 MB pytest-2.8.0.zip where 2.7.3 had a 548 kB tar.gz, and 2.8.1 went back.
        Assert.Equal(["2.8.0 size-changed", "2.8.1 size-changed"], VersionsAndKinds("pytest"));
    }

    [Fact]
    public void Numpy_1_22_4_To_1_24_4_NoSignal()
    {
        // Wheels for six platforms, cp311 wheels added in 1.23.2 (22 → 28 files), release candidates before each minor,
        // 1.24.4 published after 1.25.0rc1: none of it is an anomaly.
        var history = ReleaseHistory.Load("numpy");
        var stretch = history.Where(r => r.Version.StartsWith("1.23", StringComparison.Ordinal) || r.Version.StartsWith("1.24", StringComparison.Ordinal) || r.Version == "1.22.4").ToList();
        Assert.Equal(17, stretch.Count);

        foreach (var release in stretch)
        {
            var signals = AnomalySignals.Detect("numpy", release, ReleaseHistory.Before(history, release.Version));
            Assert.True(signals.Count == 0, $"{release.Version}: {string.Join(" | ", signals)}");
        }
    }

    [Fact]
    public void Numpy_ModernHistory_RaisesTheRealPlatformChanges()
    {
        var since2019 = VersionsAndKinds("numpy", since: new DateTime(2019, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal(
            [
                "1.19.0 platform-wheels-changed", // first manylinux aarch64 wheels
                "1.21.0 platform-wheels-changed", // first Apple silicon wheels (macosx arm64, universal2)
                "1.22.0 platform-wheels-changed", // 32-bit manylinux wheels dropped
                "1.22.3 files-added-later", // numpy-1.22.3-cp310-cp310-win32.whl uploaded 3 days after the release
                "1.25.0rc1 platform-wheels-changed", // first musllinux wheels
            ],
            since2019);
    }

    [Fact]
    public void Numpy_1_22_3_LateWindowsWheel_Evidence()
    {
        var history = ReleaseHistory.Load("numpy");

        var signal = AnomalySignals.Detect("numpy", ReleaseHistory.Release(history, "1.22.3"), ReleaseHistory.Before(history, "1.22.3")).Single();
        Assert.Equal(
            "1 of 20 files appeared more than 24 hours after the release (first seen 2022-03-07 22:39 UTC): "
            + "numpy-1.22.3-cp310-cp310-win32.whl (first seen 3 days after the release, at 2022-03-10 16:45 UTC).",
            signal.Evidence);
    }

    [Fact]
    public void Numpy_2016ManylinuxBackfill_FilesAddedLater()
    {
        // In April 2016 manylinux1 wheels were uploaded into releases as old as 1.6.0 (2011): files added years later.
        var history = ReleaseHistory.Load("numpy");

        var signal = AnomalySignals.Detect("numpy", ReleaseHistory.Release(history, "1.6.0"), ReleaseHistory.Before(history, "1.6.0"))
            .Single(s => s.Kind == AnomalySignalKind.FilesAddedLater);
        Assert.StartsWith("10 of 12 files appeared more than 24 hours after the release (first seen 2011-05-14 12:01 UTC): numpy-1.6.0-cp26-cp26m-manylinux1_x86_64.whl (first seen 1803 days after", signal.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Black_WholeHistory_RaisesTheRealChanges()
    {
        // black: YY.M calendar versions (18.3a0 → 23.7.0) raise no version jump. The signals are real events: the
        // 19.10b0 sdist grew from 156 kB to 1 MB (test data included), 20.8b0 shipped without a wheel, 22.1.0 added
        // mypyc-compiled wheels to a pure-Python project, 22.12.0 shipped without macOS wheels and 23.1.0 brought them back.
        Assert.Equal(
            [
                "19.10b0 size-changed",
                "20.8b0 install-time-code",
                "22.1.0 platform-wheels-changed",
                "22.1.0 size-changed",
                "22.12.0 platform-wheels-changed",
                "23.1.0 platform-wheels-changed",
            ],
            VersionsAndKinds("black"));
    }

    [Fact]
    public void Black_22_1_0_ExtraPlatformWheels_Evidence()
    {
        var history = ReleaseHistory.Load("black");

        var signal = AnomalySignals.Detect("black", ReleaseHistory.Release(history, "22.1.0"), ReleaseHistory.Before(history, "22.1.0"))
            .Single(s => s.Kind == AnomalySignalKind.PlatformWheelsChanged);
        Assert.Equal(
            "Against 21.12b0: new platform wheels for macosx_arm64, macosx_x86_64, manylinux_x86_64, win_amd64. "
            + "21.12b0 had no platform wheels, 22.1.0 has macosx_arm64, macosx_x86_64, manylinux_x86_64, win_amd64.",
            signal.Evidence);
    }

    [Fact]
    public void Snowballstemmer_1_9_0_AfterThreeAndAHalfYearsAndWithoutWheel()
    {
        Assert.Equal(["1.9.0 install-time-code", "1.9.0 dormant-revived"], VersionsAndKinds("snowballstemmer"));

        var history = ReleaseHistory.Load("snowballstemmer");
        var dormant = AnomalySignals.Detect("snowballstemmer", ReleaseHistory.Release(history, "1.9.0"), ReleaseHistory.Before(history, "1.9.0"))
            .Single(s => s.Kind == AnomalySignalKind.DormantRevived);
        Assert.Equal(
            "1.9.0 (2019-06-26 10:25 UTC) is the first release in 3.5 years (1279 days): the one before it was 1.2.1 (2015-12-25 03:28 UTC).",
            dormant.Evidence);
    }

    [Fact]
    public void Pytz_CalendarVersionsFrom2004_NoVersionJump()
    {
        // pytz: 2004b … 2023.3, with eggs and zips dropped along the way (the size changes are real).
        Assert.Equal(["2005r unusual-version-form", "2014.1 size-changed", "2014.1.1 size-changed", "2018.4 size-changed"], VersionsAndKinds("pytz"));
    }

    [Fact]
    public void XoGd_FirstPostRelease_OnlyTheFirst()
    {
        // xo-gd 3.2.2-4 is 3.2.2.post4 in PEP 440 terms; the project never had a post-release before. sdist only
        // throughout, so no install-time-code.
        Assert.Equal(["3.2.2-4 unusual-version-form"], VersionsAndKinds("xo-gd"));
    }
}
