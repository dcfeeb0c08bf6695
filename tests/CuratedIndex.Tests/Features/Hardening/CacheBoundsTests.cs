using System.Net;
using Xunit.Abstractions;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>Heap measurements need the process to themselves: this collection runs after the parallel ones, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "memory measurement";
}

/// <summary>
/// Issue 9, hole 1: rendered pages were cached per client <c>Host</c> header and no in-memory cache had a bound,
/// so requests with made-up Host values or project names grew the process without limit.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class CacheBoundsTests(ITestOutputHelper output)
{
    private const long MemoryLimit = 16L * 1024 * 1024;

    // What the process may keep besides the caches: connection and EF/SQLite pools, the fake upstream's hit
    // counters (one entry per path it served), thread-pool growth under 8 concurrent clients, and any
    // underestimate in the caches' size estimates. With the budget full the heap grew about 15 MB here (the
    // estimates err high); half the budget again leaves room for a noisy GC without hiding a per-request leak
    // (before the fix the same requests kept 130 MB).
    private const long Margin = MemoryLimit / 2;

    private const int Hosts = 20_000;
    private const int Projects = 5_000;

    [Fact]
    public async Task DistinctHostsAndProjectNames_KeepTheManagedHeapWithinCacheMemoryLimit()
    {
        await using var upstream = await FakePyPI.StartAsync();
        // A project with a sizeable page, so that a copy kept per Host shows.
        for (var i = 0; i < 20; i++)
        {
            upstream.AddFile("hostsdemo", $"hostsdemo-1.{i}.tar.gz", [(byte)i, 1, 2, 3]);
        }

        for (var i = 0; i < Projects; i++)
        {
            upstream.AddFile($"cachebound-{i:D5}", $"cachebound_{i:D5}-1.0.tar.gz", [(byte)i, 4, 5, 6]);
        }

        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Cache:MemoryLimit"] = "16MB",
        });

        string[] hostTargets = ["dev/simple/hostsdemo/", "dev/simple/hostsdemo/", "dev/pypi/hostsdemo/json"];
        string[] accepts = ["text/html", "application/vnd.pypi.simple.v1+json", "application/json"];
        async Task SendAsync(string target, string accept, string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.Host = host;
            request.Headers.TryAddWithoutValidation("Accept", accept);
            using var response = await proxy.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{target} for Host {host}: {(int)response.StatusCode}");
            await response.Content.LoadIntoBufferAsync();
        }

        // Warm up every path once (JIT, pools, the first page of each kind), then take the baseline.
        for (var k = 0; k < hostTargets.Length; k++)
        {
            await SendAsync(hostTargets[k], accepts[k], "warmup.example");
        }

        await SendAsync("dev/simple/cachebound-00000/", accepts[1], "warmup.example");
        var before = LiveHeap();

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 8 };
        await Parallel.ForEachAsync(Enumerable.Range(1, Hosts), parallel, async (i, _) =>
            await SendAsync(hostTargets[i % 3], accepts[i % 3], $"h{i}.clients.example"));
        await Parallel.ForEachAsync(Enumerable.Range(1, Projects - 1), parallel, async (i, _) =>
            await SendAsync($"dev/simple/cachebound-{i:D5}/", accepts[i % 2], $"p{i}.clients.example"));

        var after = LiveHeap();
        var cached = proxy.Services.GetRequiredService<CacheMemory>().Bytes;
        var grown = after - before;
        output.WriteLine($"managed heap {before / 1024} KB -> {after / 1024} KB ({grown / 1024} KB)");
        // The requests filled the budget (so eviction was exercised) without going past it.
        Assert.InRange(cached, MemoryLimit / 2, MemoryLimit);
        Assert.True(grown <= MemoryLimit + Margin, $"the managed heap grew by {grown / 1024 / 1024} MB ({before / 1024 / 1024} MB -> {after / 1024 / 1024} MB); Cache:MemoryLimit is {MemoryLimit / 1024 / 1024} MB, margin {Margin / 1024 / 1024} MB");
    }

    private static long LiveHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
