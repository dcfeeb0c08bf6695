using System.Text;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class TyposquatCorpusTests
{
    [Fact]
    public void Read_Tsv_WithHeader_NormalizesAndKeepsBestRank()
    {
        var corpus = Read("rank\tname\n1\tboto3\n2\tRequests\n3\trequests\n4\tPython_Dateutil\n");
        Assert.Equal([new PopularProject("boto3", 1), new PopularProject("requests", 2), new PopularProject("python-dateutil", 4)], corpus.Projects);
    }

    [Fact]
    public void Read_TopPypiPackagesJson_RanksByDownloads()
    {
        var corpus = Read("""{"last_update": "2025-01-01", "rows": [{"project": "urllib3", "download_count": 50}, {"project": "boto3", "download_count": 90}, {"project": "six"}]}""");
        Assert.Equal([new PopularProject("boto3", 1), new PopularProject("urllib3", 2), new PopularProject("six", 3)], corpus.Projects);
    }

    [Theory]
    [InlineData("1\tboto3\nnot-a-rank\tx\n")]
    [InlineData("{\"projects\": []}")]
    [InlineData("{\"rows\": [{\"download_count\": 1}]}")]
    [InlineData("{\"rows\": [")]
    public void Read_Malformed_ThrowsFormatException(string text) => Assert.Throws<FormatException>(() => Read(text));

    [Fact]
    public void Load_ShippedCorpus_HasTheTop15000()
    {
        var corpus = TyposquatCorpus.Load(Path.Combine(AppContext.BaseDirectory, "config", "top-pypi-projects.tsv"));
        Assert.InRange(corpus.Projects.Count, 14_900, 15_000);
        Assert.Equal("boto3", corpus.Projects[0].Name);
    }

    private static TyposquatCorpus Read(string text) => TyposquatCorpus.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "test");
}
