using CuratedIndex.Features.Decisions;
using CuratedIndex.Hosting;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// Rendered documents (simple pages, JSON API documents) per environment, kept until the upstream document (its
/// stamp) or the curation (policies, reviewer decisions) changes, so the hot path only writes bytes. Entries count
/// against <c>Cache:MemoryLimit</c>; a rendering never depends on the request's Host (see <see cref="ProxyUrls"/>).
/// </summary>
public sealed class RenderCache(CacheMemory memory)
{
    private readonly LruCache<RenderKey, Entry> _entries = new(memory);

    /// <summary>
    /// Returns the cached rendering for <paramref name="key"/>, or renders and keeps it. A null rendering (hidden) is kept
    /// too. Rendering (and compressing) a large page takes milliseconds: it never runs on a socket thread.
    /// </summary>
    public ValueTask<RenderedPage?> GetOrRenderAsync(RenderKey key, long stamp, Curation curation, Func<RenderedPage?> render) =>
        _entries.TryGet(key, out var hit) && hit.Stamp == stamp && ReferenceEquals(hit.Curation, curation)
            ? ValueTask.FromResult(hit.Page)
            : RenderAsync(key, stamp, curation, render);

    private async ValueTask<RenderedPage?> RenderAsync(RenderKey key, long stamp, Curation curation, Func<RenderedPage?> render)
    {
        await SocketThreads.LeaveAsync();
        var page = render();
        _entries.Set(key, new Entry(stamp, curation, page), SizeOf(key, page));
        return page;
    }

    private static long SizeOf(RenderKey key, RenderedPage? page) =>
        CacheSizes.Of(key.Kind) + CacheSizes.Of(key.Environment) + CacheSizes.Of(key.Document) + CacheSizes.Of(key.Variant)
        + (page is null ? 0 : 64 + SizeOf(page.Body) + CacheSizes.Of(page.ETag) + (page.Gzip is { } gzip ? SizeOf(gzip) + CacheSizes.Of(page.GzipETag) : 0));

    // In managed memory or in a memory file: memory either way.
    private static long SizeOf(DocumentBytes bytes) => 64 + bytes.Length;

    private sealed record Entry(long Stamp, Curation Curation, RenderedPage? Page);
}

/// <summary>What a rendering depends on besides the upstream document and the policy: which document and how it is shown.</summary>
public readonly record struct RenderKey(string Kind, string Environment, string Document, string Variant);
