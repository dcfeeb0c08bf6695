using System.Collections.Concurrent;
using CuratedIndex.Features.Decisions;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// Rendered documents (simple pages, JSON API documents) per environment, kept until the upstream
/// document (its stamp) or the curation (policies, reviewer decisions) changes, so the hot path only writes bytes.
/// </summary>
public sealed class RenderCache
{
    private readonly ConcurrentDictionary<RenderKey, Entry> _entries = new();

    /// <summary>Returns the cached rendering for <paramref name="key"/>, or renders and keeps it. A null rendering (hidden) is kept too.</summary>
    public RenderedPage? GetOrRender(RenderKey key, long stamp, Curation curation, Func<RenderedPage?> render)
    {
        if (_entries.TryGetValue(key, out var hit) && hit.Stamp == stamp && ReferenceEquals(hit.Curation, curation))
        {
            return hit.Page;
        }

        var page = render();
        _entries[key] = new Entry(stamp, curation, page);
        return page;
    }

    private sealed record Entry(long Stamp, Curation Curation, RenderedPage? Page);
}

/// <summary>What a rendering depends on besides the upstream document and the policy: where and how it is shown.</summary>
public readonly record struct RenderKey(string Kind, string Environment, string Document, string Variant, string Origin);
