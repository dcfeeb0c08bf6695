namespace CuratedIndex.Features.SimpleIndex;

/// <summary><c>Cache:Path</c>: local working files (the upstream root list and its rendered forms). Safe to delete.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    public string Path { get; set; } = "data/cache";
}
