using CuratedIndex.Storage;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Storage;

/// <summary>
/// What every <see cref="IArtifactStore"/> promises, run against each store: the filesystem store in a temporary
/// directory, and the S3 store against the S3 API ./test.sh starts (a bucket per test).
/// </summary>
public abstract class ArtifactStoreContractTests : IAsyncLifetime
{
    // A real key's shape: files/{sha[..2]}/{sha}/{filename}, with a '+' as local versions have.
    private const string Key = "files/ab/ab12cd/demo-1.0+local-py3-none-any.whl";

    protected IArtifactStore Store { get; private set; } = null!;

    protected abstract Task<IArtifactStore> CreateStoreAsync();

    /// <summary>Everything the store holds, committed or not (objects, files, temporary and spool files).</summary>
    protected abstract Task<IReadOnlyList<string>> EverythingStoredAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected async Task WriteAsync(string key, byte[] content)
    {
        await using var write = await Store.BeginWriteAsync(key, CancellationToken.None);
        // In pieces, as downloads arrive.
        for (var offset = 0; offset < content.Length; offset += 100_000)
        {
            await write.Content.WriteAsync(content.AsMemory(offset, Math.Min(100_000, content.Length - offset)));
        }

        await write.CommitAsync(CancellationToken.None);
    }

    private static async Task<byte[]> ReadAllAsync(StoredObject stored)
    {
        using var copy = new MemoryStream();
        await stored.Content.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task WriteAndCommit_ThenOpen_GivesTheBytesTheLengthAndTheTimeOfTheWrite()
    {
        var content = RandomBytes(200_000, 1);
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        await WriteAsync(Key, content);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Equal(content.Length, stored.Length);
        Assert.True(stored.Content.CanSeek);
        Assert.Equal(content.Length, stored.Content.Length);
        Assert.InRange(stored.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(content, await ReadAllAsync(stored));
    }

    [Fact]
    public async Task DisposeWithoutCommit_LeavesNothingAnywhere()
    {
        await using (var write = await Store.BeginWriteAsync(Key, CancellationToken.None))
        {
            await write.Content.WriteAsync(RandomBytes(300_000, 2));
        }

        Assert.Null(await Store.OpenAsync(Key, CancellationToken.None));
        Assert.Empty(await EverythingStoredAsync());
    }

    [Fact]
    public async Task Open_WhileAWriteIsUnderWayOrAfterItFailed_FindsNothing()
    {
        var write = await Store.BeginWriteAsync(Key, CancellationToken.None);
        await write.Content.WriteAsync(RandomBytes(150_000, 3));
        await write.Content.FlushAsync();

        var during = await Store.OpenAsync(Key, CancellationToken.None);
        await write.DisposeAsync(); // the download failed verification: never committed
        var after = await Store.OpenAsync(Key, CancellationToken.None);

        Assert.Null(during);
        Assert.Null(after);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 10)]
    [InlineData(1, 100)]
    [InlineData(S3ObjectStream.BufferSize - 1, 1)]
    [InlineData(S3ObjectStream.BufferSize - 10, 20)] // across the end of one block
    [InlineData(S3ObjectStream.BufferSize, 5)]
    [InlineData(S3ObjectStream.BufferSize + 1, 3 * S3ObjectStream.BufferSize)] // a block, then streaming on
    [InlineData(300_000, 10)]
    [InlineData(499_999, 1)] // the last byte
    [InlineData(499_990, 10)]
    public async Task SeekThenRead_AtAnOffset_GivesTheBytesThere(int offset, int count)
    {
        var content = RandomBytes(500_000, 4);
        await WriteAsync(Key, content);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);
        var stream = stored!.Content;

        stream.Seek(offset, SeekOrigin.Begin);
        var read = new byte[count];
        await stream.ReadExactlyAsync(read);
        var position = stream.Position;
        var atEnd = await stream.ReadAsync(new byte[1]);

        Assert.Equal(content[offset..(offset + count)], read);
        Assert.Equal(offset + count, position);
        Assert.Equal(offset + count == content.Length ? 0 : 1, atEnd);
    }

    [Fact]
    public async Task Reads_JumpingAroundAsZipReadersDo_SyncAndAsync_GiveTheBytesThere()
    {
        var content = RandomBytes(1_000_000, 5);
        await WriteAsync(Key, content);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);
        var stream = stored!.Content;
        var buffer = new byte[70_000];

        // The end, backwards in small steps, then forwards from the middle and across blocks, synchronously and not.
        foreach (var (position, count, sync) in new[]
                 {
                     (999_978L, 22, true), (995_000L, 4_000, false), (990_000L, 9_000, true), (999_999L, 1, false),
                     (500_000L, 70_000, false), (570_000L, 70_000, true), (640_000L, 1, false), (10L, 65_536, true),
                 })
        {
            stream.Position = position;
            if (sync)
            {
                stream.ReadExactly(buffer, 0, count);
            }
            else
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, count));
            }

            Assert.Equal(content.AsSpan((int)position, count).ToArray(), buffer[..count]);
        }

        stream.Seek(-5, SeekOrigin.End);
        Assert.Equal(content[^5..], Enumerable.Range(0, 5).Select(_ => (byte)stream.ReadByte()).ToArray());
        Assert.Equal(-1, stream.ReadByte());
    }

    [Fact]
    public async Task ZipArchive_ReadThroughTheStream_FindsEveryEntry()
    {
        // As the release review reads wheels: the central directory at the end, then each entry where it starts.
        var entries = Enumerable.Range(0, 12).ToDictionary(i => $"pkg/module_{i}.bin", i => RandomBytes(20_000 + i * 7_000, 100 + i));
        using var zip = new MemoryStream();
        using (var writer = new System.IO.Compression.ZipArchive(zip, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                await using var entry = await writer.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).OpenAsync();
                await entry.WriteAsync(bytes);
            }
        }

        await WriteAsync(Key, zip.ToArray());
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);
        await using var archive = await System.IO.Compression.ZipArchive.CreateAsync(
            stored!.Content, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null);

        Assert.Equal(entries.Keys.Order(), archive.Entries.Select(e => e.FullName).Order());
        foreach (var entry in archive.Entries.Reverse())
        {
            await using var data = await entry.OpenAsync();
            using var copy = new MemoryStream();
            await data.CopyToAsync(copy);
            Assert.Equal(entries[entry.FullName], copy.ToArray());
        }
    }

    [Fact]
    public async Task LargeObject_AboveTheMultipartThreshold_RoundTrips()
    {
        var content = RandomBytes(12 * 1024 * 1024 + 12345, 6);

        await WriteAsync(Key, content);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);

        Assert.Equal(content.Length, stored!.Length);
        Assert.Equal(content, await ReadAllAsync(stored));
        stored.Content.Position = 5 * 1024 * 1024 - 3; // across the first part's end
        var across = new byte[6];
        await stored.Content.ReadExactlyAsync(across);
        Assert.Equal(content[(5 * 1024 * 1024 - 3)..(5 * 1024 * 1024 + 3)], across);
    }

    [Fact]
    public async Task Delete_RemovesTheArtifact_AndDeletingAMissingOneIsNotAnError()
    {
        await WriteAsync(Key, RandomBytes(1000, 7));

        await Store.DeleteAsync(Key, CancellationToken.None);
        await Store.DeleteAsync(Key, CancellationToken.None);
        await Store.DeleteAsync("files/zz/zz99/never-written.whl", CancellationToken.None);

        Assert.Null(await Store.OpenAsync(Key, CancellationToken.None));
        Assert.Empty(await EverythingStoredAsync());
    }

    [Fact]
    public async Task Overwrite_ReplacesTheBytes()
    {
        await WriteAsync(Key, RandomBytes(100_000, 8));
        var second = RandomBytes(70_000, 9);

        await WriteAsync(Key, second);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);

        Assert.Equal(second.Length, stored!.Length);
        Assert.Equal(second, await ReadAllAsync(stored));
        Assert.Single(await EverythingStoredAsync());
    }

    [Fact]
    public async Task EmptyArtifact_RoundTrips()
    {
        await WriteAsync(Key, []);
        await using var stored = await Store.OpenAsync(Key, CancellationToken.None);

        Assert.Equal(0, stored!.Length);
        Assert.Empty(await ReadAllAsync(stored));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("files/../../escape")]
    [InlineData("files/../../../etc/passwd")]
    public async Task HostileKeys_AreRefusedForEveryOperation(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenAsync(key, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.BeginWriteAsync(key, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key, CancellationToken.None));
        Assert.Empty(await EverythingStoredAsync());
    }

    [Fact]
    public async Task Open_MissingKey_ReturnsNull()
    {
        await WriteAsync(Key, RandomBytes(10, 10));

        Assert.Null(await Store.OpenAsync("files/ab/ab12cd/other-1.0.tar.gz", CancellationToken.None));
        Assert.Null(await Store.OpenAsync("files/never/seen.whl", CancellationToken.None));
    }
}

public sealed class FileSystemArtifactStoreContractTests : ArtifactStoreContractTests
{
    private readonly string _root = Directory.CreateTempSubdirectory("curated-index-store-").FullName;

    protected override Task<IArtifactStore> CreateStoreAsync() => Task.FromResult<IArtifactStore>(new FileSystemArtifactStore(_root));

    protected override Task<IReadOnlyList<string>> EverythingStoredAsync() =>
        Task.FromResult<IReadOnlyList<string>>(Directory.GetFiles(_root, "*", SearchOption.AllDirectories));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}

public sealed class S3ArtifactStoreContractTests : ArtifactStoreContractTests
{
    private readonly string _spool = Directory.CreateTempSubdirectory("curated-index-spool-").FullName;
    private S3StorageOptions _options = null!;

    protected override async Task<IArtifactStore> CreateStoreAsync()
    {
        _options = await S3TestServer.CreateBucketAsync();
        return new S3ArtifactStore(_options, _spool);
    }

    // The bucket's objects (straight from the S3 API) and the local spool: a write must leave neither behind.
    protected override async Task<IReadOnlyList<string>> EverythingStoredAsync() =>
        [.. await S3TestServer.KeysAsync(_options), .. Directory.GetFiles(_spool, "*", SearchOption.AllDirectories)];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_spool, recursive: true);
    }

    [Fact]
    public async Task ObjectReplacedWhileItIsRead_FailsTheRead_NeverMixesTheTwo()
    {
        // Two nodes: one reads a stored copy while the other, past its wait, stores the same key again.
        const string key = "files/ab/replaced-1.0.tar.gz";
        await WriteAsync(key, RandomBytes(300_000, 1));
        await using var stored = (await Store.OpenAsync(key, CancellationToken.None))!;
        var start = new byte[1000];
        await stored.Content.ReadExactlyAsync(start); // the first block came with the open

        await WriteAsync(key, RandomBytes(300_000, 2));
        stored.Content.Seek(200_000, SeekOrigin.Begin);
        var rest = new byte[1000];

        var failure = await Assert.ThrowsAsync<IOException>(async () => await stored.Content.ReadExactlyAsync(rest));
        Assert.Contains("was deleted or replaced", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingBucket_IsAnErrorNamingTheBucket_NotAMissingArtifact()
    {
        var missing = S3TestServer.MissingBucket();
        using var store = new S3ArtifactStore(missing, _spool);

        var open = await Assert.ThrowsAsync<ArtifactStoreUnavailableException>(() => store.OpenAsync("files/ab/x.whl", CancellationToken.None));
        await using var write = await store.BeginWriteAsync("files/ab/x.whl", CancellationToken.None);
        await write.Content.WriteAsync(new byte[] { 1, 2, 3 });
        var commit = await Assert.ThrowsAsync<ArtifactStoreUnavailableException>(() => write.CommitAsync(CancellationToken.None));

        Assert.Contains($"S3 bucket '{missing.Bucket}' does not exist", open.Message, StringComparison.Ordinal);
        Assert.Contains(missing.Bucket!, commit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableStore_IsAnErrorNamingIt_NotAMissingArtifact()
    {
        var nobody = new S3StorageOptions
        {
            ServiceUrl = $"http://127.0.0.1:{FreePort()}",
            Bucket = "ci-unreachable",
            AccessKey = "a",
            SecretKey = "b",
        };
        using var store = new S3ArtifactStore(nobody, _spool);

        var e = await Assert.ThrowsAsync<ArtifactStoreUnavailableException>(() => store.OpenAsync("files/ab/x.whl", CancellationToken.None));

        Assert.Contains($"S3 bucket 'ci-unreachable' at {nobody.ServiceUrl} cannot be used", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PresignedUrl_GivesTheBytesWithoutCredentials()
    {
        var content = RandomBytes(100_000, 11);
        await using (var write = await Store.BeginWriteAsync("files/ab/ab12cd/demo-1.0+local.tar.gz", CancellationToken.None))
        {
            await write.Content.WriteAsync(content);
            await write.CommitAsync(CancellationToken.None);
        }

        var url = await ((S3ArtifactStore)Store).PresignedGetUrlAsync("files/ab/ab12cd/demo-1.0+local.tar.gz", TimeSpan.FromMinutes(5));
        using var http = new HttpClient();

        Assert.StartsWith(_options.ServiceUrl!, url, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Expires=300", url, StringComparison.Ordinal);
        Assert.Equal(content, await http.GetByteArrayAsync(url));
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
