using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// The byte budget (<c>Cache:MemoryLimit</c>) that every in-memory cache draws on, with one least-recently-used
/// order across all of them: adding past the budget drops the entries used longest ago, whichever cache holds
/// them. Sizes are estimates of what an entry keeps alive, made by its cache. One lock guards the order and every
/// cache's map; a lookup holds it for a dictionary probe and two list-pointer moves, and allocates nothing.
/// </summary>
public sealed class CacheMemory(IOptions<CacheOptions> options)
{
    // What a cache entry costs besides its value: the map slot, the list node and the entry object.
    internal const long EntryOverhead = 128;

    private readonly LinkedList<Slot> _recency = new();
    private readonly long _limit = options.Value.MemoryLimitBytes();

    internal Lock Gate { get; } = new();

    public long Limit => _limit;

    /// <summary>The estimated bytes held by all caches now.</summary>
    public long Bytes
    {
        get
        {
            lock (Gate)
            {
                return BytesHeld;
            }
        }
    }

    private long BytesHeld { get; set; }

    // All below run under Gate.
    internal void Used(LinkedListNode<Slot> node)
    {
        if (node != _recency.First)
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
    }

    internal void Added(LinkedListNode<Slot> node)
    {
        _recency.AddFirst(node);
        BytesHeld += node.Value.Bytes;
        while (BytesHeld > _limit && _recency.Last is { } oldest)
        {
            Removed(oldest);
            oldest.Value.Evicted();
        }
    }

    internal void Removed(LinkedListNode<Slot> node)
    {
        _recency.Remove(node);
        BytesHeld -= node.Value.Bytes;
    }

    /// <summary>One entry of some cache, as the shared order sees it.</summary>
    internal abstract class Slot(long bytes)
    {
        public long Bytes { get; } = bytes;

        /// <summary>Drops the entry from its cache's map (the budget has already unlinked it).</summary>
        public abstract void Evicted();
    }
}

/// <summary>
/// A map whose entries count against the shared <see cref="CacheMemory"/> budget. Thread-safe. A value larger
/// than the whole budget is not kept (the caller has it; the next request makes it again).
/// </summary>
public sealed class LruCache<TKey, TValue>(CacheMemory memory, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<CacheMemory.Slot>> _entries = new(comparer);

    public bool TryGet(TKey key, out TValue value)
    {
        lock (memory.Gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                memory.Used(node);
                value = ((Entry)node.Value).Value;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, which holds about <paramref name="bytes"/> (the key and entry overhead are added here).</summary>
    public void Set(TKey key, TValue value, long bytes)
    {
        var size = bytes + CacheMemory.EntryOverhead;
        lock (memory.Gate)
        {
            if (_entries.Remove(key, out var previous))
            {
                memory.Removed(previous);
            }

            if (size > memory.Limit)
            {
                return;
            }

            var node = new LinkedListNode<CacheMemory.Slot>(new Entry(this, key, value, size));
            _entries[key] = node;
            memory.Added(node);
        }
    }

    public void Remove(TKey key)
    {
        lock (memory.Gate)
        {
            if (_entries.Remove(key, out var node))
            {
                memory.Removed(node);
            }
        }
    }

    private sealed class Entry(LruCache<TKey, TValue> owner, TKey key, TValue value, long bytes) : CacheMemory.Slot(bytes)
    {
        public TValue Value { get; } = value;

        public override void Evicted() => owner._entries.Remove(key);
    }
}

/// <summary>Rough sizes of what cache entries keep alive, for <see cref="LruCache{TKey, TValue}.Set"/>.</summary>
public static class CacheSizes
{
    private const long ObjectHeader = 24;

    /// <summary>A string's heap size: header, length and UTF-16 characters.</summary>
    public static long Of(string? text) => text is null ? 0 : ObjectHeader + 2L * text.Length;

    public static long Of(byte[]? bytes) => bytes is null ? 0 : ObjectHeader + bytes.Length;
}
