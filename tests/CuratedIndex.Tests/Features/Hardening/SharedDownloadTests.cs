using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 2: one cache-miss download is shared by every client asking for the file, and it runs at
/// upstream speed into a temporary file that each client reads at its own pace.
/// </summary>
public sealed class SharedDownloadTests
{
    private const string Big = "bigfile-1.0.tar.gz";

    private static async Task<(FakePyPI Upstream, byte[] Content)> StartUpstreamAsync(int size)
    {
        var upstream = await FakePyPI.StartAsync();
        // Larger than the loopback socket buffers, so a client that stops reading really stops the bytes sent to it.
        var content = new byte[size];
        new Random(9).NextBytes(content);
        upstream.AddFile("bigfile", Big, content);
        return (upstream, content);
    }

    private static HttpClient NewClient(ProxyInstance proxy) =>
        new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = proxy.BaseUrl, Timeout = Timeout.InfiniteTimeSpan };

    [Fact]
    public async Task StalledFirstClient_DoesNotHoldBackASecondClientsDownload()
    {
        var (upstream, content) = await StartUpstreamAsync(48 * 1024 * 1024);
        await using var _ = upstream;
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            // Long enough that no timeout, only the shared download, decides the outcome.
            ["Upstream:FileActivityTimeout"] = "00:10:00",
        });
        using var stalled = NewClient(proxy);
        using var second = NewClient(proxy);

        using var first = await stalled.GetAsync($"dev/files/bigfile/{Big}", HttpCompletionOption.ResponseHeadersRead);
        await using var firstBody = await first.Content.ReadAsStreamAsync();
        var head = new byte[16];
        await firstBody.ReadExactlyAsync(head);

        // The first client now reads nothing more. The second must still get the whole file.
        var secondBody = await second.GetByteArrayAsync($"dev/files/bigfile/{Big}").WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(content.AsSpan(0, 16).ToArray(), head);
        Assert.Equal(content, secondBody);
        Assert.Equal(1, upstream.HitsOn($"/packages/{Big}"));

        // The stalled client only hurt itself: it can still read the rest.
        using var rest = new MemoryStream();
        await firstBody.CopyToAsync(rest).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(content.AsSpan(16).ToArray(), rest.ToArray());
    }

    [Fact]
    public async Task HashMismatch_AbortsEveryReaderAndStoresNothing()
    {
        var (upstream, content) = await StartUpstreamAsync(2 * 1024 * 1024);
        await using var _ = upstream;
        var served = (byte[])content.Clone();
        served[^1] ^= 0xFF;
        upstream.File(Big).ServedContent = served;
        upstream.FileChunkDelay = TimeSpan.FromMilliseconds(5);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var one = NewClient(proxy);
        using var two = NewClient(proxy);

        var results = await Task.WhenAll(ReadAllOrNullAsync(one), ReadAllOrNullAsync(two));

        Assert.All(results, Assert.Null); // each either refused or cut off, never a complete wrong file
        Assert.Equal(1, upstream.HitsOn($"/packages/{Big}"));
        Assert.Empty(Directory.GetFiles(Path.Combine(proxy.Root, "data", "artifacts"), "*", SearchOption.AllDirectories));
        await using var scope = proxy.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        Assert.Empty(await db.StoredArtifacts.ToListAsync());
    }

    private static async Task<byte[]?> ReadAllOrNullAsync(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync($"dev/files/bigfile/{Big}", HttpCompletionOption.ResponseHeadersRead);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync() : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return null;
        }
    }
}
