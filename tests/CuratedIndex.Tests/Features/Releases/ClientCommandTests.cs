using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Releases.Cli;
using CuratedIndex.Protocol;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>The pure parts of <c>check</c>, <c>vet</c> and <c>audits import</c>: judging a requirement, matching hashes, choosing entries.</summary>
public sealed class ClientCommandTests
{
    private static readonly string ShaA = new('a', 64);
    private static readonly string ShaB = new('b', 64);

    private static LockFileRequirement Requirement(string line) =>
        Assert.Single(LockFileReader.ReadRequirementsText(line + "\n", "requirements.txt").Requirements);

    private static ShownVersion Version(string version, bool visible, params ShownFile[] files) =>
        new(Pep440Version.Parse(version), visible, visible ? "allowed" : "not-vetted", visible ? "vetted" : $"release {version} is not vetted", files);

    private static ShownFile Served(string filename, string sha256, bool yanked = false) => new(filename, sha256, yanked, true, "allowed", "pinned");

    private static ShownFile Hidden(string filename, string sha256, string rule, string reason) => new(filename, sha256, false, false, rule, reason);

    [Fact]
    public void Judge_Range_AnswersTheNewestVersionThatInstalls_SkippingHiddenAndYankedOnes()
    {
        var project = new ShownProject("zipp", true, "allowed", "approved", [
            Version("4.0.0", false, Hidden("zipp-4.0.0-py3-none-any.whl", ShaA, "not-vetted", "not vetted")),
            Version("3.8.0", true, Served("zipp-3.8.0-py3-none-any.whl", ShaA, yanked: true)),
            Version("3.7.0", true, Served("zipp-3.7.0-py3-none-any.whl", ShaB)),
            Version("3.6.0", true, Served("zipp-3.6.0-py3-none-any.whl", ShaB)),
        ]);

        var (miss, line) = CheckCommand.Judge("prod", Requirement("zipp>=3.6,<5"), project);
        var (tooNew, why) = CheckCommand.Judge("prod", Requirement("zipp>=4"), project);

        Assert.False(miss);
        Assert.Equal("prod installs zipp 3.7.0, the newest version it shows that satisfies <5,>=3.6 (4.0.0 is newer upstream: release 4.0.0 is not vetted)", line);
        Assert.True(tooNew);
        Assert.Equal("prod shows no version of zipp that satisfies >=4: the newest upstream, 4.0.0, is hidden: release 4.0.0 is not vetted (prod shows zipp 3.7.0)", why);
    }

    [Fact]
    public void Judge_PinFromPylock_MissesWhenTheLockedFileIsHidden_AndSaysWhy()
    {
        var pylock = LockFileReader.ReadPylockText(
            $"lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n\n[[packages.wheels]]\nname = \"six-1.17.0-py2.py3-none-any.whl\"\nhashes = {{sha256 = \"{ShaA}\"}}\n",
            "pylock.toml");
        var requirement = Assert.Single(pylock.Requirements);
        var swapped = new ShownProject("six", true, "allowed", "approved", [
            Version("1.17.0", true, Hidden("six-1.17.0-py2.py3-none-any.whl", ShaA, "pin-mismatch", "upstream now lists other bytes"), Served("six-1.17.0.tar.gz", ShaB)),
        ]);
        var pinned = new ShownProject("six", true, "allowed", "approved", [Version("1.17.0", true, Served("six-1.17.0-py2.py3-none-any.whl", ShaA))]);

        Assert.Equal((true, "prod serves no file of six 1.17.0 with a sha256 the lock file allows: six-1.17.0-py2.py3-none-any.whl is hidden: upstream now lists other bytes"),
            CheckCommand.Judge("prod", requirement, swapped));
        Assert.Equal((false, (string?)null), CheckCommand.Judge("prod", requirement, pinned));
    }

    [Fact]
    public void Mismatch_NamesTheFileAndBothDigests_OrNullWhenEveryHashIsUpstreams()
    {
        var upstream = new List<(string, string)> { ("six-1.17.0-py2.py3-none-any.whl", ShaA), ("six-1.17.0.tar.gz", ShaB) };
        var locked = new LockFileRequirementHashes(new HashSet<string> { ShaB }, [new LockedFile("six-1.17.0-py2.py3-none-any.whl", ShaB, null)]);
        var hashesOnly = new LockFileRequirementHashes(new HashSet<string> { ShaA, ShaB }, []);
        var unknown = new LockFileRequirementHashes(new HashSet<string> { ShaA, new('c', 64) }, []);

        Assert.Equal($"upstream's sha256 for six-1.17.0-py2.py3-none-any.whl is {ShaA}, the lock file says {ShaB}; not vetted", VetCommand.Mismatch(locked, upstream, "six 1.17.0"));
        Assert.Null(VetCommand.Mismatch(hashesOnly, upstream, "six 1.17.0"));
        Assert.StartsWith($"sha256 {new string('c', 64)} in the lock file matches no file upstream lists for six 1.17.0", VetCommand.Mismatch(unknown, upstream, "six 1.17.0"), StringComparison.Ordinal);
    }

    [Fact]
    public void Choose_CriteriaKeepsWhatSatisfiesIt_AndRecordsIt_OnePerReleaseTheStrongest()
    {
        AuditsVetting Vetting(string project, string version, string criteria) =>
            new(project, version, criteria, [new AuditsFileEntry($"{project}-{version}-py3-none-any.whl", ShaA, 10)], "alice", DateTimeOffset.UnixEpoch, "reviewer");
        var file = AuditsFile.Create("team-a", DateTimeOffset.UnixEpoch, [
            Vetting("six", "1.17.0", "safe-to-run"),
            Vetting("six", "1.17.0", "safe-to-deploy"),
            Vetting("zipp", "3.6.0", "safe-to-run"),
        ]);

        Assert.Equal(["six safe-to-deploy", "zipp safe-to-run"], VettingsApi.Choose(file, null, null).Select(c => $"{c.Entry.Project} {c.Criteria}"));
        Assert.Equal(["six safe-to-deploy"], VettingsApi.Choose(file, "safe-to-deploy", null).Select(c => $"{c.Entry.Project} {c.Criteria}"));
        Assert.Equal(["six safe-to-run", "zipp safe-to-run"], VettingsApi.Choose(file, "safe-to-run", null).Select(c => $"{c.Entry.Project} {c.Criteria}"));
        Assert.Equal(["zipp safe-to-run"], VettingsApi.Choose(file, null, new HashSet<string> { "zipp" }).Select(c => $"{c.Entry.Project} {c.Criteria}"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProgressLine_DrawsABarOnATerminalOnly(bool terminal)
    {
        var output = new StringWriter();
        var progress = new ProgressLine(output, terminal, 2);

        progress.Advance("six==1.17.0");
        progress.Print("requirements.txt:1: six==1.17.0: vetted: ok");
        progress.Advance("zipp==3.6.0");
        progress.Done();

        var text = output.ToString();
        Assert.Contains("requirements.txt:1: six==1.17.0: vetted: ok" + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Equal(terminal, text.Contains("] 1/2 ", StringComparison.Ordinal));
        Assert.Equal(terminal, text.Contains('\u001b', StringComparison.Ordinal));
    }
}
