using System.Text.Json;
using CuratedIndex.Protocol;

namespace CuratedIndex.Protocol.Tests.Filenames;

// Real PyPI project pages (PEP 691 JSON) captured by micropip; see Fixtures/MANIFEST.md.
public class FixtureFilenameTests
{
    private const string PypiResponses = "Fixtures/micropip/tests/test_data/pypi_response";

    private sealed record Page(string Name, IReadOnlyList<string> Filenames, IReadOnlyList<string?> RequiresPython, IReadOnlyList<string> Versions);

    private static Page Load(string project)
    {
        var path = Path.Combine(AppContext.BaseDirectory, PypiResponses, project + "_simple.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        var files = root.GetProperty("files").EnumerateArray().ToList();
        return new Page(
            root.GetProperty("name").GetString()!,
            [.. files.Select(f => f.GetProperty("filename").GetString()!)],
            [.. files.Select(f => f.TryGetProperty("requires-python", out var rp) && rp.ValueKind == JsonValueKind.String ? rp.GetString() : null)],
            [.. root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!)]);
    }

    [Theory]
    [InlineData("numpy", 2210)]
    [InlineData("pytz", 725)]
    [InlineData("xo-gd", 22)]
    [InlineData("pytest", 293)]
    public void TryParse_EveryFixtureFilename_ParsesAndIsSafe(string project, int fileCount)
    {
        var page = Load(project);
        Assert.Equal(fileCount, page.Filenames.Count);

        var failures = page.Filenames
            .Where(f => !DistributionFilename.IsSafe(f)
                || !DistributionFilename.TryParse(f, page.Name, out var parsed)
                || parsed.Project != ProjectName.Normalize(project))
            .ToList();

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("numpy")]
    [InlineData("pytz")]
    [InlineData("xo-gd")]
    [InlineData("pytest")]
    public void TryParse_FixtureFilenamesWithoutProject_SplitTheSameWay(string project)
    {
        var page = Load(project);
        var differing = page.Filenames
            .Where(f => DistributionFilename.TryParse(f, page.Name, out var withName)
                && (!DistributionFilename.TryParse(f, null, out var withoutName)
                    || withoutName.Project != withName.Project
                    || withoutName.Version != withName.Version))
            .ToList();

        Assert.Empty(differing);
    }

    // Filenames whose version is not one of the page's listed versions (upstream data, not parser errors).
    [Theory]
    [InlineData("numpy", "numpy-1.0.1.dev3460.win32-py2.4.exe|numpy-1.10.0.post2.tar.gz|numpy-1.10.0.post2.zip")]
    [InlineData("pytz", "")]
    [InlineData("xo-gd", "xo-gd-3.2.2-5.tar.gz")]
    [InlineData("pytest", "")]
    public void TryParse_FixtureFilenames_VersionIsAListedVersion(string project, string knownStrays)
    {
        var page = Load(project);
        var listed = page.Versions.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var listedParsed = page.Versions
            .Select(v => Pep440Version.TryParse(v, out var parsed) ? parsed : null)
            .OfType<Pep440Version>()
            .ToHashSet();

        var strays = page.Filenames
            .Where(f =>
            {
                Assert.True(DistributionFilename.TryParse(f, page.Name, out var parsed));
                return !listed.Contains(parsed.Version)
                    && !(Pep440Version.TryParse(parsed.Version, out var v) && listedParsed.Contains(v));
            })
            .ToList();

        var expected = knownStrays.Length == 0 ? [] : knownStrays.Split('|');
        Assert.Equal(expected, strays);
    }

    // pytz's 2004d-style releases predate PEP 440; xo-gd's "3.2.2-4" is valid (implicit post-release).
    [Theory]
    [InlineData("numpy", "")]
    [InlineData("pytest", "")]
    [InlineData("xo-gd", "")]
    [InlineData("pytz", "2004d 2005e 2005i 2005k 2005m 2006g 2006j 2006p 2007d 2007f 2007g 2007i 2007k 2008g 2008h 2008i 2009d 2009e 2009f 2009g 2009i 2009j 2009l 2009n 2009p 2009u 2010e 2010g 2010h 2010k 2010l 2010o 2011d 2011e 2011g 2011h 2011j 2011k 2011n 2012d 2012f 2012g 2012h 2012j 2013d")]
    public void TryParse_FixtureVersions_OnlyKnownLegacyVersionsAreInvalid(string project, string knownInvalid)
    {
        var page = Load(project);
        var invalid = page.Versions.Where(v => !Pep440Version.TryParse(v, out _)).ToList();

        var expected = knownInvalid.Length == 0 ? [] : knownInvalid.Split(' ');
        Assert.Equal(expected, invalid);
    }

    [Fact]
    public void TryParse_FixtureVersions_SortLikeTheirNumericReleases()
    {
        var page = Load("numpy");
        var versions = page.Versions.Select(Pep440Version.Parse).ToList();
        var sorted = versions.Order().ToList();

        for (var i = 0; i + 1 < sorted.Count; i++)
        {
            Assert.True(sorted[i] < sorted[i + 1], $"{sorted[i]} < {sorted[i + 1]}");
        }

        // Expected neighbours as packaging orders this list.
        Assert.Equal("1.0", sorted[0].ToString());
        Assert.Equal("1.3.0", sorted[1].ToString());
        Assert.Equal("1.25.1", sorted[^1].ToString());
        var rc = sorted.FindIndex(v => v.ToString() == "1.25.0rc1");
        Assert.Equal("1.24.4", sorted[rc - 1].ToString());
        Assert.Equal("1.25.0", sorted[rc + 1].ToString());
    }

    [Theory]
    [InlineData("numpy")]
    [InlineData("pytest")]
    public void TryParse_FixtureRequiresPython_EveryValueParses(string project)
    {
        var page = Load(project);
        var values = page.RequiresPython.OfType<string>().Distinct().ToList();
        Assert.NotEmpty(values);

        var failures = values.Where(v => !VersionSpecifierSet.TryParse(v, out _)).ToList();

        Assert.Empty(failures);
    }
}
