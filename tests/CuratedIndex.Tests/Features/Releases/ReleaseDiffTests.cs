using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Features.Releases;
using CuratedIndex.Protocol;
using Xunit;

namespace CuratedIndex.Tests.Features.Releases;

public sealed class ReleaseDiffTests
{
    private static async Task<ReleaseArchive> ReadAsync(string folder, string filename)
    {
        var result = await ArchiveReaderTests.ReadFixtureAsync(folder, filename);
        Assert.False(result.IsRefused, result.Reason);
        return new ReleaseArchive(filename, result.Entries);
    }

    private static ArchiveEntry Text(string path, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new ArchiveEntry(path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), text);
    }

    private static ArchiveEntry Binary(string path, string sha256) => new(path, 100, sha256, null);

    private static string NumberedLines(int from, int count, string prefix = "line") =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"{prefix} {i}\n"));

    // Expected counts below come from `git diff --no-index --numstat` on the extracted archives.

    [Fact]
    public async Task Compute_RealWheelsOfTwoVersions_AlignsDistInfoAndCountsLines()
    {
        var diff = ReleaseDiff.Compute(
            [await ReadAsync("dists", "zipp-3.6.0-py3-none-any.whl")],
            [await ReadAsync("dists", "zipp-3.7.0-py3-none-any.whl")]);

        var archive = Assert.Single(diff.Archives);
        Assert.True(diff.HasBaseline);
        Assert.Equal("py3-none-any", archive.Kind);
        Assert.Equal("zipp-3.6.0-py3-none-any.whl", archive.OldFilename);
        Assert.Empty(archive.Added);
        Assert.Empty(archive.Removed);
        Assert.Equal(3, archive.UnchangedCount);
        Assert.Equal(
            [("zipp.dist-info/METADATA", 3, 3), ("zipp.dist-info/RECORD", 5, 5), ("zipp.dist-info/WHEEL", 1, 1)],
            archive.Changed.Select(f => (f.Path, f.LinesAdded, f.LinesRemoved)));
        Assert.Equal(9, diff.LinesToRead);

        var metadata = archive.Changed.First().UnifiedDiff!;
        Assert.Contains("--- a/zipp.dist-info/METADATA", metadata, StringComparison.Ordinal);
        Assert.Contains("\n-Version: 3.6.0\n", metadata, StringComparison.Ordinal);
        Assert.Contains("\n+Version: 3.7.0\n", metadata, StringComparison.Ordinal);
        Assert.Contains("\n@@ -", metadata, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compute_RealSdistsOfTwoVersions_StripsTheTopDirectory()
    {
        var diff = ReleaseDiff.Compute(
            [await ReadAsync("sdists", "INITools-0.1.tar.gz")],
            [await ReadAsync("sdists", "INITools-0.2.tar.gz")]);

        var archive = Assert.Single(diff.Archives);
        Assert.Equal("sdist", archive.Kind);
        Assert.Equal(
            [("INITools.egg-info/PKG-INFO", 20), ("INITools.egg-info/SOURCES.txt", 19), ("INITools.egg-info/top_level.txt", 1), ("INITools.egg-info/zip-safe", 0)],
            archive.Added.Select(f => (f.Path, f.LinesAdded)));
        Assert.Empty(archive.Removed);
        Assert.Equal(
            [("PKG-INFO", 6, 2), ("initools/configwrapper.py", 1, 1), ("initools/iniparser.py", 2, 2), ("setup.cfg", 3, 0), ("setup.py", 6, 2)],
            archive.Changed.Select(f => (f.Path, f.LinesAdded, f.LinesRemoved)));
        Assert.Equal(11, archive.UnchangedCount);
        Assert.Equal(40 + 18, diff.LinesToRead);
        Assert.All(archive.Files, f => Assert.True(f.IsText));
    }

    [Fact]
    public async Task Compute_NoVettedRelease_EveryLineOfEveryTextFileIsToRead()
    {
        var diff = ReleaseDiff.Compute(
            [],
            [await ReadAsync("dists", "zipp-3.7.0-py3-none-any.whl"), await ReadAsync("sdists", "INITools-0.2.tar.gz")]);

        Assert.False(diff.HasBaseline);
        Assert.Equal(2, diff.Archives.Count);
        Assert.All(diff.Archives, a => Assert.All(a.Files, f => Assert.Equal(FileChange.Added, f.Change)));
        Assert.All(diff.Archives, a => Assert.Null(a.OldFilename));

        // Counted independently with Python over the extracted files: 418 lines in the wheel, 2083 in the sdist.
        Assert.Equal(418, diff.Archives.Single(a => a.Kind == "py3-none-any").LinesToRead);
        Assert.Equal(2083, diff.Archives.Single(a => a.Kind == "sdist").LinesToRead);
        Assert.Equal(2501, diff.LinesToRead);
    }

    [Fact]
    public void Compute_AddedRemovedChanged_CountsAndLinesToRead()
    {
        var old = new ReleaseArchive("demo-1.0-py3-none-any.whl",
        [
            Text("demo/__init__.py", "VERSION = '1.0'\n"),
            Text("demo/core.py", NumberedLines(1, 10)),
            Text("demo/gone.py", NumberedLines(1, 7)),
            Text("demo/same.py", "x = 1\n"),
            Binary("demo/logo.png", "aa"),
            Text("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n"),
        ]);
        var candidate = new ReleaseArchive("demo-1.1-py3-none-any.whl",
        [
            Text("demo/__init__.py", "VERSION = '1.1'\n"),
            Text("demo/core.py", NumberedLines(1, 5) + "inserted\nchanged 6\n" + NumberedLines(7, 4)),
            Text("demo/new.py", "import os\nos.system('id')\n"),
            Text("demo/same.py", "x = 1\n"),
            Binary("demo/logo.png", "bb"),
            Binary("demo/blob.bin", "cc"),
            Text("demo-1.1.dist-info/METADATA", "Name: demo\nVersion: 1.1\n"),
        ]);

        var archive = Assert.Single(ReleaseDiff.Compute([old], [candidate]).Archives);

        Assert.Equal(["demo/blob.bin", "demo/new.py"], archive.Added.Select(f => f.Path));
        Assert.Equal([("demo/gone.py", 7)], archive.Removed.Select(f => (f.Path, f.LinesRemoved)));
        Assert.Equal(
            [("demo.dist-info/METADATA", 1, 1), ("demo/__init__.py", 1, 1), ("demo/core.py", 2, 1), ("demo/logo.png", 0, 0)],
            archive.Changed.Select(f => (f.Path, f.LinesAdded, f.LinesRemoved)));
        Assert.Equal(1, archive.UnchangedCount);
        Assert.False(archive.Changed.Single(f => f.Path == "demo/logo.png").IsText);
        Assert.False(archive.Added.Single(f => f.Path == "demo/blob.bin").IsText);

        // Changed text: 1 + 1 + 2 new lines; added text: the whole of new.py (2); removed and binary files: none.
        Assert.Equal(6, archive.LinesToRead);
        Assert.Equal(
            "--- /dev/null\n+++ b/demo/new.py\n@@ -0,0 +1,2 @@\n+import os\n+os.system('id')\n",
            archive.Added.Single(f => f.Path == "demo/new.py").UnifiedDiff);
        Assert.Null(archive.Removed.Single().UnifiedDiff);
    }

    [Fact]
    public void Compute_OldSideBinaryNewSideText_IsReadInFull()
    {
        var archive = Assert.Single(ReleaseDiff.Compute(
            [new ReleaseArchive("demo-1.0.tar.gz", [Binary("demo-1.0/setup.py", "aa")])],
            [new ReleaseArchive("demo-1.1.tar.gz", [Text("demo-1.1/setup.py", NumberedLines(1, 4))])]).Archives);

        var setup = Assert.Single(archive.Changed);
        Assert.Equal(("setup.py", true, 4), (setup.Path, setup.IsText, setup.LinesToRead));
    }

    [Fact]
    public void Compute_LongDiff_IsCappedWithANote()
    {
        var archive = Assert.Single(ReleaseDiff.Compute(
            [new ReleaseArchive("demo-1.0-py3-none-any.whl", [Text("demo/big.py", NumberedLines(1, 3000, "old"))])],
            [new ReleaseArchive("demo-1.1-py3-none-any.whl", [Text("demo/big.py", NumberedLines(1, 3000, "new"))])],
            maxDiffLines: 100).Archives);

        var big = Assert.Single(archive.Changed);
        Assert.Equal((3000, 3000), (big.LinesAdded, big.LinesRemoved));
        Assert.True(big.DiffTruncated);
        var lines = ReleaseDiff.Lines(big.UnifiedDiff!);
        Assert.Equal(101, lines.Count);
        Assert.Matches(@"^\.\.\. diff truncated: \d+ more lines not shown$", lines[^1]);
        Assert.Equal(3000, archive.LinesToRead);
    }

    [Fact]
    public void Compute_TooManyDifferingLinesToAlign_CountsTheWholeRegionAsReplaced()
    {
        // 50,000 lines replaced by 50,000 others: aligning them line by line would take minutes.
        var archive = Assert.Single(ReleaseDiff.Compute(
            [new ReleaseArchive("demo-1.0-py3-none-any.whl", [Text("demo/big.py", "# head\n" + NumberedLines(1, 50_000, "old") + "# tail\n")])],
            [new ReleaseArchive("demo-1.1-py3-none-any.whl", [Text("demo/big.py", "# head\n" + NumberedLines(1, 50_000, "new") + "# tail\n")])],
            maxDiffLines: 5).Archives);

        var big = Assert.Single(archive.Changed);
        Assert.Equal((50_000, 50_000, 50_000), (big.LinesAdded, big.LinesRemoved, big.LinesToRead));
        Assert.Equal(
            "--- a/demo/big.py\n+++ b/demo/big.py\n@@ -2,50000 +2,50000 @@ 100000 differing lines, too many to align: shown as replaced\n-old 1\n-old 2\n... diff truncated: 99998 more lines not shown\n",
            big.UnifiedDiff);
    }

    [Fact]
    public void Compute_ShortDiff_IsNotTruncated()
    {
        var archive = Assert.Single(ReleaseDiff.Compute(
            [new ReleaseArchive("demo-1.0-py3-none-any.whl", [Text("demo/a.py", NumberedLines(1, 50))])],
            [new ReleaseArchive("demo-1.1-py3-none-any.whl", [Text("demo/a.py", NumberedLines(1, 25) + "evil()\n" + NumberedLines(26, 25))])]).Archives);

        var a = Assert.Single(archive.Changed);
        Assert.False(a.DiffTruncated);
        Assert.Equal(
            "--- a/demo/a.py\n+++ b/demo/a.py\n@@ -23,6 +23,7 @@\n line 23\n line 24\n line 25\n+evil()\n line 26\n line 27\n line 28\n",
            a.UnifiedDiff);
        Assert.DoesNotContain("diff truncated", a.UnifiedDiff, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_PairsArchivesByKind()
    {
        ReleaseArchive Empty(string filename) => new(filename, []);
        var diff = ReleaseDiff.Compute(
            [Empty("demo-1.0-py2.py3-none-any.whl"), Empty("demo-1.0.tar.gz"), Empty("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"), Empty("demo-1.0-cp311-cp311-win_amd64.whl")],
            [Empty("demo-1.1-py3-none-any.whl"), Empty("demo-1.1.zip"), Empty("demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl"), Empty("demo-1.1-cp312-cp312-manylinux_2_17_x86_64.whl")]);

        Assert.Equal(
            [
                ("cp311-cp311-manylinux_2_17_x86_64", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl"),
                ("cp311-cp311-win_amd64", "demo-1.0-cp311-cp311-win_amd64.whl", null),
                ("cp312-cp312-manylinux_2_17_x86_64", null, "demo-1.1-cp312-cp312-manylinux_2_17_x86_64.whl"),
                ("py3-none-any", "demo-1.0-py2.py3-none-any.whl", "demo-1.1-py3-none-any.whl"),
                ("sdist", "demo-1.0.tar.gz", "demo-1.1.zip"),
            ],
            diff.Archives.Select(a => (a.Kind, a.OldFilename, a.NewFilename)).OrderBy(a => a.Kind, StringComparer.Ordinal));
    }

    [Fact]
    public void Compute_ArchiveGoneFromTheNewRelease_ListsItsFilesAsRemovedAndNothingToRead()
    {
        var diff = ReleaseDiff.Compute(
            [new ReleaseArchive("demo-1.0-cp311-cp311-win_amd64.whl", [Text("demo/a.py", "a\n"), Binary("demo/_speedups.pyd", "aa")])],
            []);

        var archive = Assert.Single(diff.Archives);
        Assert.Null(archive.NewFilename);
        Assert.Equal(2, archive.Removed.Count());
        Assert.Equal(0, diff.LinesToRead);
    }

    [Theory]
    [InlineData("zipp-3.7.0.dist-info/METADATA", DistributionKind.Wheel, null, "zipp.dist-info/METADATA")]
    [InlineData("typing_extensions-4.4.0.dist-info/RECORD", DistributionKind.Wheel, null, "typing_extensions.dist-info/RECORD")]
    [InlineData("demo-1.0.post1.data/scripts/run", DistributionKind.Wheel, null, "demo.data/scripts/run")]
    [InlineData("demo/sub-1.0.dist-info/x", DistributionKind.Wheel, null, "demo/sub-1.0.dist-info/x")]
    [InlineData("demo/__init__.py", DistributionKind.Wheel, null, "demo/__init__.py")]
    [InlineData("INITools-0.2/initools/nested.py", DistributionKind.Sdist, "INITools-0.2", "initools/nested.py")]
    [InlineData("setup.py", DistributionKind.Sdist, null, "setup.py")]
    public void AlignedPath_DropsTheVersion(string path, DistributionKind kind, string? top, string expected)
    {
        Assert.Equal(expected, ReleaseDiff.AlignedPath(path, kind, top));
    }

    [Fact]
    public void SdistTopDirectory_IsTheOneDirectoryEveryEntrySitsIn()
    {
        Assert.Equal("demo-1.0", ReleaseDiff.SdistTopDirectory([Text("demo-1.0/setup.py", ""), Text("demo-1.0/demo/x.py", "")]));
        Assert.Null(ReleaseDiff.SdistTopDirectory([Text("demo-1.0/setup.py", ""), Text("other/x.py", "")]));
        Assert.Null(ReleaseDiff.SdistTopDirectory([Text("setup.py", "")]));
        Assert.Null(ReleaseDiff.SdistTopDirectory([]));
    }
}
