using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// Each signal, raised and not raised, on releases shaped like real ones (real filenames, sizes and rosters of
/// requests, numpy, toga). Whole real histories are in <see cref="RealHistorySignalsTests"/>.
/// </summary>
public class AnomalySignalsTests
{
    private static readonly DateTime Seen = new(2024, 5, 20, 14, 0, 0, DateTimeKind.Utc);

    private static readonly string[] Requests = ["requests-{0}-py3-none-any.whl", "requests-{0}.tar.gz"];

    private static readonly string[] NumpyWheels =
    [
        "numpy-{0}-cp312-cp312-macosx_10_9_x86_64.whl",
        "numpy-{0}-cp312-cp312-macosx_11_0_arm64.whl",
        "numpy-{0}-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        "numpy-{0}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "numpy-{0}-cp312-cp312-musllinux_1_1_x86_64.whl",
        "numpy-{0}-cp312-cp312-win32.whl",
        "numpy-{0}-cp312-cp312-win_amd64.whl",
        "numpy-{0}.tar.gz",
    ];

    private static ReleaseFacts Release(string version, DateTime seen, IEnumerable<string> patterns, long size = 60_000, IReadOnlyList<string>? roster = null) =>
        new(
            version,
            patterns.Select(p => new ReleaseFileFacts(string.Format(p, version), null, size, new DateTimeOffset(seen), seen)).ToList(),
            seen,
            roster);

    private static List<string> Kinds(string project, ReleaseFacts release, params ReleaseFacts[] earlier) =>
        AnomalySignals.Detect(project, release, earlier).Select(s => s.Kind).ToList();

    private static AnomalySignal Single(string kind, string project, ReleaseFacts release, params ReleaseFacts[] earlier)
    {
        var signals = AnomalySignals.Detect(project, release, earlier);
        Assert.True(signals.Count(s => s.Kind == kind) == 1, $"expected one {kind}, got: {string.Join(" | ", signals)}");
        return signals.Single(s => s.Kind == kind);
    }

    [Fact]
    public void Detect_OrdinaryPatchRelease_NoSignal()
    {
        var previous = Release("2.31.0", Seen.AddDays(-300), Requests, roster: ["Kenneth Reitz", "me@kennethreitz.org"]);
        var release = Release("2.32.0", Seen, Requests, 64_000, ["Kenneth Reitz", "me@kennethreitz.org"]);

        Assert.Empty(AnomalySignals.Detect("requests", release, [previous]));
    }

    [Fact]
    public void Detect_NoEarlierRelease_NoComparativeSignal()
    {
        Assert.Empty(AnomalySignals.Detect("requests", Release("2.32.0", Seen, Requests), []));
    }

    [Fact]
    public void Detect_VersionNotPep440_OnlyTimeSignalsAndNoThrow()
    {
        var previous = Release("2.31.0", Seen.AddYears(-3), Requests);
        var release = new ReleaseFacts("latest-snapshot", [new ReleaseFileFacts("requests-latest-snapshot.tar.gz", null, 1, null, Seen)], Seen);

        Assert.Equal([AnomalySignalKind.DormantRevived], Kinds("requests", release, previous));
    }

    [Fact]
    public void AllKinds_AreTheStoredKeys()
    {
        Assert.Equal(
            ["files-added-later", "version-jump", "platform-wheels-changed", "size-changed", "install-time-code", "dormant-revived", "roster-changed", "unusual-version-form",
             "provenance-regression", "publisher-changed", "publisher-kind-changed", "provenance-failed"],
            AnomalySignalKind.All);
    }

    // files-added-later

    [Fact]
    public void FilesAddedLater_WheelFirstSeen30HoursAfterRelease_Raised()
    {
        var previous = Release("1.26.3", Seen.AddDays(-60), NumpyWheels);
        var release = Release("1.26.4", Seen, NumpyWheels);
        var late = new ReleaseFileFacts("numpy-1.26.4-cp312-cp312-win_arm64.whl", null, 60_000, null, Seen.AddHours(30));
        release = release with { Files = [.. release.Files, late] };

        var signal = Single(AnomalySignalKind.FilesAddedLater, "numpy", release, previous);
        Assert.Equal(
            "1 of 9 files appeared more than 24 hours after the release (first seen 2024-05-20 14:00 UTC): "
            + "numpy-1.26.4-cp312-cp312-win_arm64.whl (first seen 30 hours after the release, at 2024-05-21 20:00 UTC).",
            signal.Evidence);
    }

    [Fact]
    public void FilesAddedLater_WheelsUploadedOver20HoursByCi_NotRaised()
    {
        var release = new ReleaseFacts(
            "1.26.4",
            NumpyWheels.Select((p, i) => new ReleaseFileFacts(string.Format(p, "1.26.4"), null, 1, new DateTimeOffset(Seen.AddHours(i * 2.5)), Seen.AddHours(i * 2.5))).ToList(),
            Seen);

        Assert.DoesNotContain(AnomalySignalKind.FilesAddedLater, Kinds("numpy", release));
    }

    [Fact]
    public void FilesAddedLater_ShorterGrace_Raised()
    {
        var release = new ReleaseFacts(
            "2.32.0",
            [new ReleaseFileFacts("requests-2.32.0.tar.gz", null, 1, null, Seen), new ReleaseFileFacts("requests-2.32.0-py3-none-any.whl", null, 1, null, Seen.AddHours(3))],
            Seen);

        Assert.Empty(AnomalySignals.Detect("requests", release, []));
        Assert.Equal(
            [AnomalySignalKind.FilesAddedLater],
            AnomalySignals.Detect("requests", release, [], lateFileGrace: TimeSpan.FromHours(1)).Select(s => s.Kind));
    }

    [Fact]
    public void FilesAddedLater_UploadTimeMonthsLaterThoughSeenTogether_Raised()
    {
        // CuratedIndex saw the release only now, but upstream says one wheel was added to it 200 days after the rest.
        var uploaded = new DateTimeOffset(Seen.AddDays(-400));
        var release = new ReleaseFacts(
            "2.31.0",
            [
                new ReleaseFileFacts("requests-2.31.0.tar.gz", null, 1, uploaded, Seen),
                new ReleaseFileFacts("requests-2.31.0-py3-none-any.whl", null, 1, uploaded.AddMinutes(1), Seen),
                new ReleaseFileFacts("requests-2.31.0-cp312-cp312-win_amd64.whl", null, 1, uploaded.AddDays(200), Seen),
            ],
            Seen);

        var signal = Single(AnomalySignalKind.FilesAddedLater, "requests", release);
        Assert.Contains("requests-2.31.0-cp312-cp312-win_amd64.whl (uploaded 200 days after the release's first file", signal.Evidence, StringComparison.Ordinal);
    }

    // version-jump

    [Theory]
    [InlineData("1.2", "9.0", "the major jumps by 8 (more than 3)")]
    [InlineData("2.31.0", "99.0.0", "the major jumps by 97")]
    [InlineData("2.3", "2023.1", "the major jumps from 2 to 2023, a calendar version the project never used")]
    [InlineData("0.9.1", "20240101", "a calendar version the project never used")]
    [InlineData("2.31.0", "1!2.32.0", "the epoch changes from 0 to 1")]
    [InlineData("2024.2.2", "9999.0", "its year 9999 is after the year of the release (2024)")]
    public void VersionJump_ImplausibleJump_Raised(string previous, string version, string because)
    {
        var signal = Single(AnomalySignalKind.VersionJump, "demo", Release(version, Seen, ["demo-{0}.tar.gz"]), Release(previous, Seen.AddDays(-30), ["demo-{0}.tar.gz"]));

        Assert.StartsWith($"{version} follows {previous}: ", signal.Evidence, StringComparison.Ordinal);
        Assert.Contains(because, signal.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("59.8.0", "60.0.0")] // setuptools: big majors, one at a time
    [InlineData("68.2.2", "69.0.0")]
    [InlineData("1.26.18", "2.0.0")] // urllib3
    [InlineData("0.9.1", "3.0.0")] // a jump of three is still a few
    [InlineData("23.12.1", "24.1.0")] // black: YY.M calendar versions
    [InlineData("2023.11.17", "2024.2.2")] // certifi
    [InlineData("2.31.0", "2.31.0.post1")]
    [InlineData("1.26.4", "2.0.0rc1")] // numpy
    public void VersionJump_NormalStep_NotRaised(string previous, string version)
    {
        var kinds = Kinds("demo", Release(version, Seen, ["demo-{0}.tar.gz"]), Release(previous, Seen.AddDays(-30), ["demo-{0}.tar.gz"]));

        Assert.DoesNotContain(AnomalySignalKind.VersionJump, kinds);
    }

    [Fact]
    public void VersionJump_ComparesWithNewestLowerVersion_NotNewestUpload()
    {
        // A 1.x backport uploaded after 2.0 follows 1.26.18, not 2.0.0; and 2.0.0 is never "previous" to it.
        var earlier = new[] { Release("1.26.18", Seen.AddDays(-200), Requests), Release("2.0.0", Seen.AddDays(-100), Requests) };

        Assert.Empty(AnomalySignals.Detect("requests", Release("1.26.19", Seen, Requests), earlier));
    }

    [Fact]
    public void VersionJump_CalendarVersionsUsedBefore_NotRaised()
    {
        // The project has published both 1.0 and 2023.1; 2022.6 follows 1.0 by version but is no switch to calendar versions.
        var earlier = new[] { Release("2023.1", Seen.AddDays(-400), Requests), Release("1.0", Seen.AddDays(-300), Requests) };

        Assert.DoesNotContain(AnomalySignalKind.VersionJump, Kinds("requests", Release("2022.6", Seen, Requests), earlier));
        Assert.Contains(AnomalySignalKind.VersionJump, Kinds("requests", Release("2022.6", Seen, Requests), earlier[1]));
    }

    // platform-wheels-changed

    [Fact]
    public void PlatformWheels_PurePythonProjectShipsLinuxWheel_Raised()
    {
        // The OpenStack release audit's "extra platform wheels": a none-any project suddenly ships a native wheel.
        var previous = Release("2.31.0", Seen.AddDays(-300), Requests);
        var release = Release("2.32.0", Seen, [.. Requests, "requests-{0}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]);

        var signal = Single(AnomalySignalKind.PlatformWheelsChanged, "requests", release, previous);
        Assert.Equal(
            "Against 2.31.0: new platform wheels for manylinux_x86_64. 2.31.0 had no platform wheels, 2.32.0 has manylinux_x86_64.",
            signal.Evidence);
    }

    [Fact]
    public void PlatformWheels_WindowsWheelMissing_Raised()
    {
        var previous = Release("1.26.3", Seen.AddDays(-60), NumpyWheels);
        var release = Release("1.26.4", Seen, NumpyWheels.Where(p => !p.EndsWith("win_amd64.whl", StringComparison.Ordinal)));

        var signal = Single(AnomalySignalKind.PlatformWheelsChanged, "numpy", release, previous);
        Assert.StartsWith("Against 1.26.3: no wheels any more for win_amd64.", signal.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void PlatformWheels_NewPythonVersionAndNewerGlibcTags_NotRaised()
    {
        // cp313 added, cp312 dropped, manylinux2014 relabelled manylinux_2_28, macOS 10.9 raised to 14.0, a universal2 wheel:
        // the same operating systems and architectures.
        var previous = Release("1.26.4", Seen.AddDays(-60), NumpyWheels);
        string[] renamed =
        [
            "numpy-{0}-cp313-cp313-macosx_14_0_x86_64.whl",
            "numpy-{0}-cp313-cp313-macosx_10_13_universal2.whl",
            "numpy-{0}-cp313-cp313-manylinux_2_28_aarch64.whl",
            "numpy-{0}-cp313-cp313-manylinux_2_28_x86_64.whl",
            "numpy-{0}-cp313-cp313-musllinux_1_2_x86_64.whl",
            "numpy-{0}-pp310-pypy310_pp73-manylinux_2_28_x86_64.whl",
            "numpy-{0}-cp313-cp313-win32.whl",
            "numpy-{0}-cp313-cp313-win_amd64.whl",
            "numpy-{0}.tar.gz",
        ];

        Assert.DoesNotContain(AnomalySignalKind.PlatformWheelsChanged, Kinds("numpy", Release("2.1.0", Seen, renamed), previous));
    }

    [Theory]
    [InlineData("numpy-1.21.0-cp39-cp39-manylinux_2_12_x86_64.manylinux2010_x86_64.whl", "manylinux_x86_64")]
    [InlineData("numpy-1.16.0-cp27-cp27mu-manylinux1_i686.whl", "manylinux_i686")]
    [InlineData("numpy-1.25.0-cp311-cp311-musllinux_1_1_x86_64.whl", "musllinux_x86_64")]
    [InlineData("numpy-1.21.0-cp39-cp39-macosx_10_9_universal2.whl", "macosx_arm64,macosx_x86_64")]
    [InlineData("numpy-1.11.3-cp36-cp36m-macosx_10_6_intel.macosx_10_9_intel.macosx_10_9_x86_64.macosx_10_10_intel.macosx_10_10_x86_64.whl", "macosx_x86_64")]
    [InlineData("numpy-1.10.4-cp35-none-win32.whl", "win32")]
    [InlineData("cryptography-42.0.5-cp39-abi3-manylinux_2_28_armv7l.whl", "manylinux_armv7l")]
    [InlineData("numpy-1.0-py3-none-any.whl", "")]
    [InlineData("numpy-1.0.tar.gz", "")]
    public void Platforms_RealWheelNames_OsAndArchitectureOnly(string filename, string expected)
    {
        var project = filename[..filename.IndexOf('-', StringComparison.Ordinal)];
        var release = new ReleaseFacts("1.0", [new ReleaseFileFacts(filename, null, 1, null, Seen)], Seen);

        Assert.Equal(expected, string.Join(',', AnomalySignals.Platforms(project, release)));
    }

    // size-changed

    [Fact]
    public void SizeChanged_FourTimesLarger_Raised()
    {
        var previous = Release("2.31.0", Seen.AddDays(-300), Requests, 62_550);
        var release = Release("2.32.0", Seen, Requests, 250_300);

        var signal = Single(AnomalySignalKind.SizeChanged, "requests", release, previous);
        Assert.Equal("The 2 files total 500,600 bytes, 4.0x larger than the 125,100 bytes of 2.31.0's 2 files.", signal.Evidence);
    }

    [Fact]
    public void SizeChanged_FourTimesSmaller_Raised()
    {
        var signal = Single(AnomalySignalKind.SizeChanged, "requests", Release("2.32.0", Seen, Requests, 15_000), Release("2.31.0", Seen.AddDays(-300), Requests, 60_000));

        Assert.Contains("4.0x smaller", signal.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void SizeChanged_TwiceAsLarge_NotRaised()
    {
        Assert.Empty(AnomalySignals.Detect("requests", Release("2.32.0", Seen, Requests, 120_000), [Release("2.31.0", Seen.AddDays(-300), Requests, 60_000)]));
    }

    [Fact]
    public void SizeChanged_SizeUnknown_NotRaised()
    {
        var release = Release("2.32.0", Seen, Requests, 600_000);
        release = release with { Files = [release.Files[0] with { Size = null }, release.Files[1]] };

        Assert.Empty(AnomalySignals.Detect("requests", release, [Release("2.31.0", Seen.AddDays(-300), Requests, 60_000)]));
    }

    // install-time-code

    [Fact]
    public void InstallTimeCode_SdistOnlyAfterWheels_Raised()
    {
        var signal = Single(AnomalySignalKind.InstallTimeCode, "requests", Release("2.32.0", Seen, ["requests-{0}.tar.gz"], 120_000), Release("2.31.0", Seen.AddDays(-300), Requests));

        Assert.Equal("Only source distributions (requests-2.32.0.tar.gz): installing runs their build code, where 2.31.0 had 1 wheel.", signal.Evidence);
    }

    [Fact]
    public void InstallTimeCode_ProjectNeverHadWheels_NotRaised()
    {
        Assert.Empty(AnomalySignals.Detect("xo-gd", Release("3.2.8", Seen, ["xo-gd-{0}.tar.gz"]), [Release("3.2.7", Seen.AddDays(-3), ["xo-gd-{0}.tar.gz"])]));
    }

    [Fact]
    public void InstallTimeCode_ReleaseWithoutFilesYet_NotRaised()
    {
        Assert.DoesNotContain(AnomalySignalKind.InstallTimeCode, Kinds("requests", new ReleaseFacts("2.32.0", [], Seen), Release("2.31.0", Seen.AddDays(-300), Requests)));
    }

    // dormant-revived

    [Fact]
    public void DormantRevived_ThreeYearsAfterLastRelease_Raised()
    {
        var earlier = new[] { Release("2.30.0", Seen.AddYears(-4), Requests), Release("2.31.0", Seen.AddYears(-3), Requests) };

        var signal = Single(AnomalySignalKind.DormantRevived, "requests", Release("2.32.0", Seen, Requests), earlier);
        Assert.Equal(
            "2.32.0 (2024-05-20 14:00 UTC) is the first release in 3.0 years (1096 days): the one before it was 2.31.0 (2021-05-20 14:00 UTC).",
            signal.Evidence);
    }

    [Fact]
    public void DormantRevived_TwentyThreeMonths_NotRaised()
    {
        Assert.Empty(AnomalySignals.Detect("requests", Release("2.32.0", Seen, Requests), [Release("2.31.0", Seen.AddMonths(-23), Requests)]));
    }

    [Fact]
    public void DormantRevived_NoUploadTimes_UsesFirstSeen()
    {
        static ReleaseFacts Unstamped(string version, DateTime seen) =>
            new(version, [new ReleaseFileFacts($"requests-{version}.tar.gz", null, 1, null, seen)], seen);

        Assert.Equal([AnomalySignalKind.DormantRevived], Kinds("requests", Unstamped("2.32.0", Seen), Unstamped("2.31.0", Seen.AddYears(-2).AddDays(-1))));
        Assert.Empty(Kinds("requests", Unstamped("2.32.0", Seen), Unstamped("2.31.0", Seen.AddYears(-2).AddDays(1))));
    }

    // roster-changed (rosters as pypi.org's /pypi/<project>/<version>/json gives them; staged in shared/fixtures/poetry)

    [Fact]
    public void RosterChanged_MaintainerAdded_Raised()
    {
        // toga 0.3.0dev2 → 0.3.0: "BeeWare Team <team@beeware.org>" became maintainer.
        var before = AnomalySignals.Roster("Russell Keith-Magee", "russell@keith-magee.com", "", "");
        var after = AnomalySignals.Roster("Russell Keith-Magee", "russell@keith-magee.com", "BeeWare Team", "team@beeware.org");

        var signal = Single(
            AnomalySignalKind.RosterChanged,
            "toga",
            Release("0.3.0", Seen, ["toga-{0}.tar.gz"], roster: after),
            Release("0.3.0.dev2", Seen.AddDays(-30), ["toga-{0}.tar.gz"], roster: before));
        Assert.Equal("The author/maintainer roster differs from 0.3.0.dev2's: added \"BeeWare Team\", \"team@beeware.org\".", signal.Evidence);
    }

    [Fact]
    public void RosterChanged_EmailReplaced_RaisedWithBoth()
    {
        // ipython 4.1.0rc1 → 5.7.0: the author email moved from scipy.org to python.org.
        var signal = Single(
            AnomalySignalKind.RosterChanged,
            "ipython",
            Release("5.7.0", Seen, ["ipython-{0}.tar.gz"], roster: AnomalySignals.Roster("The IPython Development Team", "ipython-dev@python.org", "", "")),
            Release("4.1.0rc1", Seen.AddYears(-1), ["ipython-{0}.tar.gz"], roster: AnomalySignals.Roster("The IPython Development Team", "ipython-dev@scipy.org", "", "")));

        Assert.EndsWith("added \"ipython-dev@python.org\"; removed \"ipython-dev@scipy.org\".", signal.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void RosterChanged_SameRosterOtherCaseAndOrder_NotRaised()
    {
        // requests 2.18.0 → 2.18.1 had the same roster; order, case and spacing do not matter.
        var before = AnomalySignals.Roster("Kenneth Reitz", "me@kennethreitz.org", "", "");
        IReadOnlyList<string> after = ["ME@kennethreitz.org", "Kenneth  Reitz"];

        Assert.Empty(AnomalySignals.Detect(
            "requests",
            Release("2.18.1", Seen, Requests, roster: after),
            [Release("2.18.0", Seen.AddDays(-10), Requests, roster: before)]));
    }

    [Fact]
    public void RosterChanged_PreviousRosterUnknown_ComparesWithNearestKnown()
    {
        var known = Release("2.18.0", Seen.AddDays(-20), Requests, roster: ["Kenneth Reitz", "me@kennethreitz.org"]);
        var unknown = Release("2.18.1", Seen.AddDays(-10), Requests);
        var release = Release("2.18.2", Seen, Requests, roster: ["Kenneth Reitz", "kr@evil.example"]);

        Assert.Equal([AnomalySignalKind.RosterChanged], Kinds("requests", release, known, unknown));
        Assert.Empty(Kinds("requests", release with { Roster = null }, known, unknown));
    }

    [Fact]
    public void Roster_SplitsCommaSeparatedFields()
    {
        Assert.Equal(
            ["Holger Krekel", "Bruno Oliveira", "others", "a@example.org", "b@example.org"],
            AnomalySignals.Roster("Holger Krekel, Bruno Oliveira, others", "a@example.org,b@example.org", null, " "));
    }

    // unusual-version-form

    [Fact]
    public void UnusualVersionForm_FirstPostRelease_Raised()
    {
        var signal = Single(
            AnomalySignalKind.UnusualVersionForm,
            "requests",
            Release("2.31.0.post1", Seen, Requests),
            Release("2.30.0", Seen.AddDays(-60), Requests),
            Release("2.31.0", Seen.AddDays(-30), Requests));

        Assert.Equal("2.31.0.post1 is a post-release; none of the project's 2 earlier releases is.", signal.Evidence);
    }

    [Fact]
    public void UnusualVersionForm_LocalVersion_Raised()
    {
        var signal = Single(AnomalySignalKind.UnusualVersionForm, "requests", Release("2.31.0+corp.1", Seen, ["requests-{0}.tar.gz"]), Release("2.31.0", Seen.AddDays(-30), Requests));

        Assert.Equal("2.31.0+corp.1 is a local version (+corp.1, which PyPI does not accept); the project's one earlier release is not.", signal.Evidence);
    }

    [Fact]
    public void UnusualVersionForm_ProjectHadPostReleasesBefore_NotRaised()
    {
        var kinds = Kinds("requests", Release("2.31.0.post2", Seen, Requests), Release("2.30.0.post1", Seen.AddDays(-60), Requests), Release("2.31.0", Seen.AddDays(-30), Requests));

        Assert.DoesNotContain(AnomalySignalKind.UnusualVersionForm, kinds);
    }

    [Fact]
    public void UnusualVersionForm_PreAndDevReleases_NotRaised()
    {
        Assert.Empty(Kinds("requests", Release("2.32.0rc1.dev3", Seen, Requests), Release("2.31.0", Seen.AddDays(-30), Requests)));
    }
}
