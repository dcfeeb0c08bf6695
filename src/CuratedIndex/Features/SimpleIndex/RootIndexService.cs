using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>A rendered root list on disk, ready to send: the file and its gzip twin, each with its own validator.</summary>
public sealed record RenderedRoot(string Path, string ETag, string GzipPath, string GzipETag, long? LastSerial)
{
    /// <summary>Opens the file to send (<see cref="GzipPath"/> when <paramref name="gzip"/>); null when a newer rendering replaced it meanwhile.</summary>
    public SafeFileHandle? TryOpen(bool gzip)
    {
        try
        {
            return File.OpenHandle(gzip ? GzipPath : Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>
/// The root project list (<c>/{env}/simple/</c>). A real upstream lists about 886,000 names, so nothing here
/// holds the list in memory: the upstream document is downloaded to a file (validated by a streaming read
/// before it replaces the previous one), and each environment's filtered rendering is streamed into a
/// file, compressed once into a gzip twin, and sent from there. Project links are relative (<c>name/</c>, as PEP 503
/// allows): a quarter of the bytes of absolute paths on a list of short names.
/// </summary>
public sealed class RootIndexService(
    UpstreamPageClient upstream,
    CurationStore curations,
    IOptions<UpstreamOptions> upstreamOptions,
    IOptions<CacheOptions> cacheOptions,
    IHostEnvironment hostEnvironment,
    TimeProvider clock,
    ILogger<RootIndexService> logger) : IDisposable
{
    private const string RootKey = "";
    private static readonly TimeSpan RootTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _upstreamGate = new(1, 1);
    private readonly ConcurrentDictionary<(string Environment, SimpleFormat Format), SemaphoreSlim> _renderGates = new();
    private readonly ConcurrentDictionary<(string Environment, SimpleFormat Format), (long Stamp, Curation Curation, RenderedRoot Root)> _rendered = new();
    private UpstreamRoot? _current;
    private long _stamp;

    /// <summary><c>Cache:Path</c> (relative to the content root), created if missing: the working files of the root list and of the jobs that read it.</summary>
    internal string CacheDirectory => cacheOptions.Value.DirectoryUnder(hostEnvironment.ContentRootPath);

    /// <summary>
    /// The environment's list in <paramref name="format"/>, rendered with the newest curation: a request that opened with an
    /// older one must not render the list again over a newer rendering (and delete its files) while the newer one serves.
    /// </summary>
    public async Task<(RenderedRoot? Root, string? Failure)> GetAsync(EnvironmentPolicy environment, SimpleFormat format, CancellationToken cancellationToken)
    {
        var curation = curations.Current;
        var (root, failure) = await GetUpstreamRootAsync(cancellationToken);
        if (root is null)
        {
            return (null, failure);
        }

        var key = (environment.Name, format);
        RenderedRoot? Current() =>
            _rendered.TryGetValue(key, out var hit) && hit.Stamp == root.Stamp && ReferenceEquals(hit.Curation, curation) && File.Exists(hit.Root.Path) && File.Exists(hit.Root.GzipPath) ? hit.Root : null;

        if (Current() is { } current)
        {
            return (current, null);
        }

        // Rendering the list takes a second or more: never on a socket thread.
        await SocketThreads.LeaveAsync();
        var gate = _renderGates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (Current() is { } rendered)
            {
                return (rendered, null);
            }

            DeleteEarlierRenderings();
            var fresh = await RenderAsync(root, environment, curation, format, cancellationToken);
            if (_rendered.TryGetValue(key, out var previous) && previous.Root.Path != fresh.Path)
            {
                // Requests sending the previous files keep their open handles.
                File.Delete(previous.Root.Path);
                File.Delete(previous.Root.GzipPath);
            }

            _rendered[key] = (root.Stamp, curation, fresh);
            return (fresh, null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Revalidates the upstream root list now, whatever its age (a 304 costs no body), and opens it for reading its
    /// names; null with the failure when upstream could not be asked (a stale list is not offered: a screening run
    /// over it would report success for a list nobody checked). The file is opened under the same lock that replaces
    /// it, and the listing keeps reading that document even when a later refresh replaces the file.
    /// </summary>
    internal async Task<(UpstreamListing? Listing, string? Failure)> RefreshListingAsync(CancellationToken cancellationToken)
    {
        await _upstreamGate.WaitAsync(cancellationToken);
        try
        {
            var current = _current ?? LoadSaved();
            var (root, failure) = await RefreshAsync(current);
            if (root is null)
            {
                return (null, failure ?? "upstream failed");
            }

            _current = root;
            var input = new FileStream(root.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return (new UpstreamListing(input, root.IsJson), null);
        }
        finally
        {
            _upstreamGate.Release();
        }
    }

    /// <summary>One upstream root document, open for reading; every <see cref="NamesAsync"/> reads it from the start.</summary>
    internal sealed class UpstreamListing(FileStream input, bool isJson) : IAsyncDisposable
    {
        /// <summary>The listed names, PEP 503 normalized; names that are not valid project names are skipped.</summary>
        public async IAsyncEnumerable<string> NamesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            input.Seek(0, SeekOrigin.Begin);
            await foreach (var entry in ReadEntries(input, isJson, cancellationToken))
            {
                if (Protocol.ProjectName.IsValid(entry.Name))
                {
                    yield return Protocol.ProjectName.Normalize(entry.Name);
                }
            }
        }

        public ValueTask DisposeAsync() => input.DisposeAsync();
    }

    private readonly DateTime _created = DateTime.UtcNow;
    private int _earlierRenderingsDeleted;

    // Renderings are named per process run (a Guid each); those of earlier runs are never served again. Deleted once, before
    // this process's first rendering, and only those written before this service was created: another process sharing Cache:Path keeps
    // its own (were one deleted anyway, it would render the list again).
    private void DeleteEarlierRenderings()
    {
        if (Interlocked.Exchange(ref _earlierRenderingsDeleted, 1) == 1 || !Directory.Exists(CacheDirectory))
        {
            return;
        }

        foreach (var file in new DirectoryInfo(CacheDirectory).EnumerateFiles("root-*"))
        {
            if (file.LastWriteTimeUtc < _created)
            {
                try
                {
                    file.Delete();
                }
                catch (IOException)
                {
                    // In use or gone: the next start tries again.
                }
            }
        }
    }

    private async Task<RenderedRoot> RenderAsync(UpstreamRoot root, EnvironmentPolicy environment, Curation curation, SimpleFormat format, CancellationToken cancellationToken)
    {
        var extension = format == SimpleFormat.Json ? "json" : "html";
        var final = Path.Combine(CacheDirectory, $"root-{environment.Name}-{extension}-{root.Stamp}-{Guid.NewGuid():N}.{extension}");
        var finalGzip = final + ".gz";
        var temporary = final + ".partial";
        var temporaryGzip = finalGzip + ".partial";
        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var visible = VisibleEntries(root, environment, curation, cancellationToken);
                // Relative to /{env}/simple/, where the list is served (a request without the slash is redirected there).
                static string ProjectHref(string name) => Protocol.ProjectName.Normalize(name) + "/";
                if (format == SimpleFormat.Json)
                {
                    await SimpleJsonWriter.WriteIndexAsync(output, visible, root.LastSerial, ProjectHref, cancellationToken);
                }
                else
                {
                    await SimpleHtmlWriter.WriteIndexAsync(output, visible, root.LastSerial, ProjectHref, cancellationToken);
                }
            }

            // One read of what was written: its digest (the ETag) and its gzip twin, made here once, never per request.
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var written = new FileStream(temporary, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var gzipFile = new FileStream(temporaryGzip, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var gzip = new GZipStream(gzipFile, CompressionLevel.Optimal))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await written.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    digest.AppendData(buffer, 0, read);
                    await gzip.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            var etag = $"\"{Convert.ToHexStringLower(digest.GetHashAndReset())[..32]}\"";
            File.Move(temporaryGzip, finalGzip);
            File.Move(temporary, final);
            return new RenderedRoot(final, etag, finalGzip, RenderedPage.GzipETagOf(etag), root.LastSerial);
        }
        catch
        {
            File.Delete(finalGzip);
            throw;
        }
        finally
        {
            File.Delete(temporary);
            File.Delete(temporaryGzip);
        }
    }

    private async IAsyncEnumerable<ProjectListEntry> VisibleEntries(UpstreamRoot root, EnvironmentPolicy environment, Curation curation, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var input = new FileStream(root.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await foreach (var entry in ReadEntries(input, root.IsJson, cancellationToken))
        {
            var name = Protocol.ProjectName.IsValid(entry.Name) ? Protocol.ProjectName.Normalize(entry.Name) : null;
            if (name is null)
            {
                continue;
            }

            // The typosquat signal can only hide a name: decide without it first, so that in tiers 2 and 3 only the
            // approved names (not all ~886,000) pay for a detector check in a blocking environment.
            var subject = new DecisionSubject(name);
            if (curation.Decide(environment, subject, UpstreamFacts.None, DecisionSignals.None).Visible
                && (environment.Typosquat != TyposquatMode.Block || curation.Decide(environment, subject, UpstreamFacts.None).Visible))
            {
                yield return entry;
            }
        }
    }

    private static IAsyncEnumerable<ProjectListEntry> ReadEntries(Stream input, bool isJson, CancellationToken cancellationToken, Action<long>? onSerial = null) =>
        isJson
            ? SimpleJsonReader.ReadIndexAsync(input, cancellationToken, onSerial)
            : SimpleHtmlReader.ReadIndexAsync(new StreamReader(input, Encoding.UTF8), cancellationToken, onSerial);

    private async Task<(UpstreamRoot? Root, string? Failure)> GetUpstreamRootAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is not null && clock.GetUtcNow() - current.ValidatedAt < upstreamOptions.Value.PageMaxAge)
        {
            return (current, null);
        }

        await _upstreamGate.WaitAsync(cancellationToken);
        try
        {
            current = _current ?? LoadSaved();
            if (current is not null && clock.GetUtcNow() - current.ValidatedAt < upstreamOptions.Value.PageMaxAge)
            {
                _current = current;
                return (current, null);
            }

            var (fresh, failure) = await RefreshAsync(current);
            if (fresh is not null)
            {
                _current = fresh;
                return (fresh, null);
            }

            if (current is not null)
            {
                UpstreamLog.ServingStale(logger, "(root)", failure ?? "upstream failed");
                _current = current with { ValidatedAt = clock.GetUtcNow() - upstreamOptions.Value.PageMaxAge + RetryAfterFailure };
                return (_current, null);
            }

            return (null, failure);
        }
        finally
        {
            _upstreamGate.Release();
        }
    }

    /// <summary>
    /// The upstream list this node saved before it (re)started, with the validators that came with those very bytes. Both
    /// are node-local files: a validator another node saw with a newer list must never be paired with this node's older
    /// bytes (a revalidation would then answer 304 and keep the old list for good).
    /// </summary>
    private UpstreamRoot? LoadSaved()
    {
        if (!File.Exists(UpstreamRootPath()) || UpstreamRootValidators.Read(UpstreamRootValidatorsPath()) is not { } saved)
        {
            return null;
        }

        return new UpstreamRoot(UpstreamRootPath(), IsJsonType(saved.ContentType), saved.ETag, saved.LastSerial, Interlocked.Increment(ref _stamp), saved.ValidatedAt);
    }

    // Detached from the request: a client hanging up must not abort a download that others wait for.
    private async Task<(UpstreamRoot? Root, string? Failure)> RefreshAsync(UpstreamRoot? current)
    {
        using var timeout = new CancellationTokenSource(RootTimeout);
        var temporary = UpstreamRootPath() + $".{Guid.NewGuid():N}.partial";
        long? bodySerial = null;
        try
        {
            var document = await upstream.GetAsync("simple/", ProjectPageCache.UpstreamAccept, current?.ETag, RootTimeout, async (content, token) =>
            {
                var isJson = IsJsonType(content.Headers.ContentType?.MediaType);
                await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await using (var body = await content.ReadAsStreamAsync(token))
                {
                    if (!await CopyLimitedAsync(body, file, upstreamOptions.Value.MaxIndexBytes, token))
                    {
                        return (null, $"upstream project list exceeds {upstreamOptions.Value.MaxIndexBytes} bytes");
                    }
                }

                // Read it through once before it replaces the last good copy: no garbage is kept.
                try
                {
                    await using var check = File.OpenRead(temporary);
                    await foreach (var _ in ReadEntries(check, isJson, token, serial => bodySerial = serial))
                    {
                    }
                }
                catch (SimplePageFormatException e)
                {
                    return (null, e.Message);
                }

                return ([], null);
            }, timeout.Token);

            var now = clock.GetUtcNow();
            switch (document.Status)
            {
                case UpstreamStatus.NotModified when current is not null:
                    UpstreamRootValidators.Write(UpstreamRootValidatorsPath(), new UpstreamRootValidators(current.IsJson ? SimpleMediaTypes.Json : SimpleMediaTypes.Html, current.ETag, current.LastSerial, now));
                    return (current with { ValidatedAt = now }, null);
                case UpstreamStatus.Ok:
                    // The old validators go first: a crash between the two moves leaves a list without validators (fetched
                    // again), never new bytes under old validators or old bytes under new ones.
                    File.Delete(UpstreamRootValidatorsPath());
                    File.Move(temporary, UpstreamRootPath(), overwrite: true);
                    var serial = bodySerial ?? document.LastSerial;
                    UpstreamRootValidators.Write(UpstreamRootValidatorsPath(), new UpstreamRootValidators(document.ContentType ?? "", document.ETag, serial, now));
                    return (new UpstreamRoot(UpstreamRootPath(), IsJsonType(document.ContentType), document.ETag, serial, Interlocked.Increment(ref _stamp), now), null);
                case UpstreamStatus.NotFound:
                    return (null, "upstream has no project list at /simple/");
                default:
                    return (null, document.Reason);
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static async Task<bool> CopyLimitedAsync(Stream source, Stream destination, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
            {
                return false;
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        return true;
    }

    private static bool IsJsonType(string? mediaType) =>
        string.Equals(mediaType?.Split(';')[0].Trim(), SimpleMediaTypes.Json, StringComparison.OrdinalIgnoreCase);

    private string UpstreamRootPath() => Path.Combine(CacheDirectory, "upstream-root");

    private string UpstreamRootValidatorsPath() => Path.Combine(CacheDirectory, "upstream-root.validators.json");

    public void Dispose()
    {
        _upstreamGate.Dispose();
        foreach (var gate in _renderGates.Values)
        {
            gate.Dispose();
        }
    }

    private sealed record UpstreamRoot(string Path, bool IsJson, string? ETag, long? LastSerial, long Stamp, DateTimeOffset ValidatedAt);
}

/// <summary>What came with the saved upstream list: its media type and validators, and when upstream last confirmed it.</summary>
internal sealed record UpstreamRootValidators(string ContentType, string? ETag, long? LastSerial, DateTimeOffset ValidatedAt)
{
    /// <summary>The saved validators, or null when there are none or they cannot be read (the list is then fetched again).</summary>
    public static UpstreamRootValidators? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<UpstreamRootValidators>(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Replaces the saved validators at once (written beside them, then moved over them).</summary>
    public static void Write(string path, UpstreamRootValidators validators)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(validators));
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
