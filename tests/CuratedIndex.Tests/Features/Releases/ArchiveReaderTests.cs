using System.Text;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Xunit;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>The archive reader on real wheels and sdists from PyPI.</summary>
public sealed class ArchiveReaderTests
{
    private static readonly ArchiveLimits Defaults = new();

    internal static async Task<ArchiveReadResult> ReadFixtureAsync(string folder, string filename, ArchiveLimits? limits = null)
    {
        await using var stream = File.OpenRead(FakePyPI.FixturePath(folder, filename));
        return await ArchiveReader.ReadAsync(stream, filename, limits ?? Defaults);
    }

    [Fact]
    public async Task ReadAsync_RealWheel_HashesMatchTheWheelsOwnRecord()
    {
        var result = await ReadFixtureAsync("dists", "zipp-3.7.0-py3-none-any.whl");

        Assert.False(result.IsRefused, result.Reason);
        Assert.Equal(
            ["zipp-3.7.0.dist-info/LICENSE", "zipp-3.7.0.dist-info/METADATA", "zipp-3.7.0.dist-info/RECORD", "zipp-3.7.0.dist-info/WHEEL", "zipp-3.7.0.dist-info/top_level.txt", "zipp.py"],
            result.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));

        // RECORD lists path,sha256=<urlsafe base64>,size for every other file: an independent oracle.
        var record = result.Entries.Single(e => e.Path.EndsWith("/RECORD", StringComparison.Ordinal)).Text!;
        var checkedRows = 0;
        foreach (var row in ReleaseDiff.Lines(record).Select(l => l.Split(',')).Where(r => r[1].Length > 0))
        {
            var entry = result.Entries.Single(e => e.Path == row[0]);
            var digest = Convert.FromBase64String(row[1]["sha256=".Length..].Replace('-', '+').Replace('_', '/') + "=");
            Assert.Equal(Convert.ToHexStringLower(digest), entry.Sha256);
            Assert.Equal(long.Parse(row[2]), entry.Size);
            checkedRows++;
        }

        Assert.Equal(5, checkedRows);
        Assert.StartsWith("import io", result.Entries.Single(e => e.Path == "zipp.py").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_RealSdistTarGz_ListsFilesWithoutDirectoriesAndKeepsText()
    {
        var result = await ReadFixtureAsync("sdists", "INITools-0.2.tar.gz");

        Assert.False(result.IsRefused, result.Reason);
        Assert.Equal(20, result.Entries.Count);
        Assert.All(result.Entries, e => Assert.StartsWith("INITools-0.2/", e.Path, StringComparison.Ordinal));
        var pkgInfo = result.Entries.Single(e => e.Path == "INITools-0.2/PKG-INFO");
        Assert.Equal(726, pkgInfo.Size);
        Assert.Contains("Name: INITools", pkgInfo.Text, StringComparison.Ordinal);
        var empty = result.Entries.Single(e => e.Path == "INITools-0.2/INITools.egg-info/zip-safe");
        Assert.Equal("", empty.Text);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", empty.Sha256);
    }

    [Fact]
    public async Task ReadAsync_RealSdistZip_FromAForwardOnlyStream()
    {
        var bytes = await File.ReadAllBytesAsync(FakePyPI.FixturePath("sdists", "jupyter-1.0.0.zip"));
        await using var forwardOnly = new ForwardOnlyStream(new MemoryStream(bytes));

        var result = await ArchiveReader.ReadAsync(forwardOnly, "jupyter-1.0.0.zip", Defaults);

        Assert.False(result.IsRefused, result.Reason);
        Assert.Equal(15, result.Entries.Count);
        Assert.Contains(result.Entries, e => e.Path == "jupyter-1.0.0/docs/source/conf.py");
    }

    [Fact]
    public async Task ReadAsync_TextOverTheTextLimitOrBinary_KeepsNoText()
    {
        var small = await ReadFixtureAsync("dists", "zipp-3.7.0-py3-none-any.whl", new ArchiveLimits { MaxTextBytes = 1000 });
        Assert.Null(small.Entries.Single(e => e.Path == "zipp.py").Text);
        Assert.NotNull(small.Entries.Single(e => e.Path == "zipp-3.7.0.dist-info/WHEEL").Text);

        var zip = HostileArchives.Zip(("pkg/data.bin", [0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), ("pkg/latin1.txt", [0x63, 0x61, 0x66, 0xe9]), ("pkg/ok.txt", Encoding.UTF8.GetBytes("café\n")));
        var mixed = await ArchiveReader.ReadAsync(new MemoryStream(zip), "pkg-1.0-py3-none-any.whl", Defaults);
        Assert.Null(mixed.Entries.Single(e => e.Path == "pkg/data.bin").Text);
        Assert.Null(mixed.Entries.Single(e => e.Path == "pkg/latin1.txt").Text);
        Assert.Equal("café\n", mixed.Entries.Single(e => e.Path == "pkg/ok.txt").Text);
    }

    [Fact]
    public async Task ReadAsync_DotSegments_AreNormalizedAway()
    {
        var tar = HostileArchives.TarGz(w => HostileArchives.AddFile(w, "./pkg-1.0/./setup.py", "print(1)\n"));

        var result = await ArchiveReader.ReadAsync(new MemoryStream(tar), "pkg-1.0.tar.gz", Defaults);

        Assert.False(result.IsRefused, result.Reason);
        Assert.Equal("pkg-1.0/setup.py", Assert.Single(result.Entries).Path);
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
