using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Features.Jobs;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 10: artifact rows are unique per store key (not per filename), and the scrub job marks only the
/// artifact it re-fetched as verified.
/// </summary>
public sealed class StoredArtifactTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private static readonly string OtherSha256 = new('0', 64);

    private static StoredArtifact Row(string filename, string sha256) => new()
    {
        Project = "six",
        Filename = filename,
        Sha256 = sha256,
        Size = 3,
        StorageKey = $"files/{sha256[..2]}/{sha256}/{filename}",
        StoredAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task StoredArtifacts_SameFilenameUnderTwoKeys_AreTwoRows_SameKeyTwiceIsRefused()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        await proxy.QueryAsync(db =>
        {
            db.StoredArtifacts.AddRange(Row(Six, new string('a', 64)), Row(Six, new string('b', 64)));
            return db.SaveChangesAsync();
        });
        Assert.Equal(2, await proxy.QueryAsync(db => db.StoredArtifacts.CountAsync(a => a.Filename == Six)));

        await Assert.ThrowsAsync<DbUpdateException>(() => proxy.QueryAsync(db =>
        {
            db.StoredArtifacts.Add(Row(Six, new string('a', 64)));
            return db.SaveChangesAsync();
        }));
    }

    [Fact]
    public async Task Scrub_RefetchedArtifact_MarksOnlyThatOne_AnotherRowOfTheSameFilenameIsStillChecked()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        // One artifact per batch: a row marked verified by mistake would drop out of the next batch unchecked.
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: ManualJobs.Settings(new Dictionary<string, string> { ["Jobs:Scrub:BatchSize"] = "1" }));
        using (var download = await proxy.Client.GetAsync($"dev/files/six/{Six}"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        }

        var good = upstream.File(Six);
        var path = Path.Combine(proxy.Root, "data", "artifacts", "files", good.Sha256[..2], good.Sha256, Six);
        var corrupted = good.Content.ToArray();
        corrupted[100] ^= 0xff;
        await File.WriteAllBytesAsync(path, corrupted);
        // A second object under the same filename (bytes upstream once listed), gone from the store.
        var other = Row(Six, OtherSha256);
        await proxy.QueryAsync(db =>
        {
            db.StoredArtifacts.Add(other);
            return db.SaveChangesAsync();
        });

        var run = await JobsIntegrationTests.RunAsync(proxy, "Scrub");

        Assert.Equal("0 verified, 2 mismatched, 1 re-fetched", run.Message);
        var incidents = await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.ScrubMismatch).OrderBy(i => i.Id).Select(i => i.Detail).ToListAsync());
        Assert.Equal(2, incidents.Count);
        Assert.Contains("re-fetched from upstream and verified", incidents[0], StringComparison.Ordinal);
        Assert.Contains($"(sha256 {OtherSha256}) is missing from the artifact store", incidents[1], StringComparison.Ordinal);
        var rows = await proxy.QueryAsync(db => db.StoredArtifacts.AsNoTracking().Where(a => a.Filename == Six).ToListAsync());
        var refetched = Assert.Single(rows);
        Assert.Equal(good.Sha256, refetched.Sha256);
        Assert.NotNull(refetched.VerifiedAt);
    }
}
