using System.Buffers.Binary;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Storage;

namespace CuratedIndex.Features.Typosquat;

/// <summary>What one run of the upstream-names screening saw.</summary>
public sealed record UpstreamNamesResult(bool Baseline, long Listed, long Added, long Flagged, int Internal = 0)
{
    public string Describe() => (Baseline
        ? $"baseline: {Listed} names, none screened"
        : $"{Listed} names, {Added} new, {Flagged} flagged") + (Internal > 0 ? $"; {Internal} internal name(s) listed upstream (dependency-confusion alert)" : "");
}

/// <summary>
/// Screens the names that newly appear in the upstream root list. Each run revalidates the list and compares it with the
/// one the previous run saw, on whichever node it ran (kept in the artifact store as a sorted object of 64-bit name hashes,
/// about 8 bytes a name); only names not in it are checked, and each finding is recorded (no review request is created).
/// The first run of a deployment is a baseline: it remembers the list and screens nothing.
/// </summary>
public sealed class UpstreamNameScreening(
    RootIndexService roots,
    CurationStore curations,
    TyposquatScreening typosquats,
    DependencyConfusionAlerts alerts,
    IArtifactStore store,
    ILogger<UpstreamNameScreening> logger)
{
    /// <summary>The snapshot's key in the artifact store, shared by every node (the job runs on any of them).</summary>
    public const string SnapshotKey = "state/upstream-names.snapshot";

    /// <summary>Where versions before the shared snapshot kept it, under <c>Cache:Path</c>: read once if the store has none, then removed.</summary>
    public const string LegacySnapshotFile = "upstream-names.snapshot";
    private const int MaxInternalAlertsPerRun = 1000;
    private const int MinNewNamesForRebaseline = 20_000;

    /// <summary>One run; <paramref name="progress"/> gets (done, total) while new names are screened. Throws when the list is unavailable.</summary>
    public async Task<UpstreamNamesResult> RunOnceAsync(Func<long, long, Task>? progress, CancellationToken cancellationToken)
    {
        var (listing, failure) = await roots.RefreshListingAsync(cancellationToken);
        if (listing is null)
        {
            throw new InvalidOperationException($"the upstream project list is unavailable: {failure}");
        }

        var legacyPath = Path.Combine(roots.CacheDirectory, LegacySnapshotFile);
        await using (listing)
        await using (var saved = await OpenSavedAsync(legacyPath, cancellationToken))
        {
            var previous = saved is null ? -1 : await NameSnapshot.CountOfAsync(saved, cancellationToken);
            var curation = curations.Current;
            // Internal names are looked for in the whole list, baseline or not: one listed upstream is dependency
            // confusion however long it has been there.
            var internalNames = new List<string>();
            // Sized from the previous list so that the one array is allocated once (886,000 names: 7 MB).
            var (hashes, count) = await NameSnapshot.HashAllAsync(
                NotingInternal(listing.NamesAsync(cancellationToken), curation, internalNames),
                previous < 0 ? 1 << 20 : previous + (previous / 64) + 1024);
            foreach (var name in internalNames)
            {
                await alerts.RaiseAsync(name, "in the upstream project list", cancellationToken);
            }

            if (previous < 0)
            {
                await SaveAsync(hashes, count, legacyPath, cancellationToken);
                UpstreamNamesLog.Baseline(logger, count);
                return new UpstreamNamesResult(true, count, 0, 0, internalNames.Count);
            }

            var added = await NameSnapshot.NotInAsync(saved!, hashes, count, cancellationToken);
            var total = added.Count;
            if (total > Math.Max(MinNewNamesForRebaseline, previous / 20))
            {
                // More than 5% of the list new at once is not publishing activity but another upstream (Upstream:Url
                // changed) or a lost snapshot: screening it all would bury the real findings under established names.
                await SaveAsync(hashes, count, legacyPath, cancellationToken);
                UpstreamNamesLog.Rebaseline(logger, total, previous);
                return new UpstreamNamesResult(true, count, 0, 0, internalNames.Count);
            }

            if (total > 0 && !typosquats.IsAvailable(curation))
            {
                // Without the corpus a null check means nothing: keep the snapshot so that the next run screens these names.
                throw new InvalidOperationException($"the typosquat corpus is not loaded (see the log); {total} new upstream names were not screened and will be at the next run");
            }

            long screened = 0, flagged = 0;
            if (total > 0)
            {
                await foreach (var name in listing.NamesAsync(cancellationToken))
                {
                    if (!added.Remove(NameSnapshot.Hash(name)))
                    {
                        continue;
                    }

                    screened++;
                    if (curation.Typosquat(name) is { } finding)
                    {
                        flagged++;
                        // A failure fails the run before the snapshot moves on, so the next run screens these names again.
                        await typosquats.RecordAsync(name, finding, cancellationToken);
                    }

                    if (progress is not null && (screened % 1000 == 0 || screened == total))
                    {
                        await progress(screened, total);
                    }
                }
            }

            await SaveAsync(hashes, count, legacyPath, cancellationToken);
            UpstreamNamesLog.Screened(logger, count, screened, flagged);
            return new UpstreamNamesResult(false, count, screened, flagged, internalNames.Count);
        }
    }

    /// <summary>The previous run's snapshot: the shared one, or else one an earlier version kept on this node; null when neither exists.</summary>
    private async Task<Stream?> OpenSavedAsync(string legacyPath, CancellationToken cancellationToken)
    {
        if (await store.OpenAsync(SnapshotKey, cancellationToken) is { } stored)
        {
            return stored.Content;
        }

        return File.Exists(legacyPath) ? File.OpenRead(legacyPath) : null;
    }

    private async Task SaveAsync(ulong[] hashes, int count, string legacyPath, CancellationToken cancellationToken)
    {
        await NameSnapshot.WriteAsync(store, SnapshotKey, hashes, count, cancellationToken);
        File.Delete(legacyPath);
    }

    private static async IAsyncEnumerable<string> NotingInternal(IAsyncEnumerable<string> names, Curation curation, List<string> internalNames)
    {
        var anyInternal = curation.Policy.InternalNames.Count > 0 || curation.Policy.InternalPrefixes.Count > 0;
        await foreach (var name in names)
        {
            // Bounded: a prefix that matches thousands of public names is a policy mistake, not thousands of alerts.
            if (anyInternal && internalNames.Count < MaxInternalAlertsPerRun && DecisionFunction.IsInternal(curation.Policy, name))
            {
                internalNames.Add(name);
            }

            yield return name;
        }
    }
}

/// <summary>
/// A set of project names as a file: a header, then the sorted, distinct 64-bit FNV-1a hashes of the normalized names.
/// Memory while diffing is one array of the new list's hashes; the previous list is read from the file in order.
/// </summary>
internal static class NameSnapshot
{
    private const ulong Magic = 0x3130_534D_414E_4943; // "CINAMS01"
    private const int MaxNames = 10_000_000;

    public static ulong Hash(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>The sorted distinct hashes of <paramref name="names"/> in the first <c>Count</c> items of the array.</summary>
    public static async Task<(ulong[] Hashes, int Count)> HashAllAsync(IAsyncEnumerable<string> names, long capacity)
    {
        var hashes = new ulong[Math.Min(capacity, Array.MaxLength)];
        var count = 0;
        await foreach (var name in names)
        {
            if (count == MaxNames)
            {
                // PyPI lists under a million; a list far beyond that is not an index to diff (and 8 bytes a name adds up).
                throw new InvalidDataException($"the upstream project list has more than {MaxNames} names; not screened");
            }

            if (count == hashes.Length)
            {
                Array.Resize(ref hashes, hashes.Length + Math.Max(hashes.Length / 4, 1024));
            }

            hashes[count++] = Hash(name);
        }

        var span = hashes.AsSpan(0, count);
        span.Sort();
        var distinct = 0;
        for (var i = 0; i < span.Length; i++)
        {
            if (distinct == 0 || span[i] != span[distinct - 1])
            {
                span[distinct++] = span[i];
            }
        }

        return (hashes, distinct);
    }

    /// <summary>How many names the snapshot in <paramref name="input"/> (seekable) holds; -1 when it is not one.</summary>
    public static async Task<long> CountOfAsync(Stream input, CancellationToken cancellationToken)
    {
        var header = new byte[16];
        input.Seek(0, SeekOrigin.Begin);
        if (input.Length < 16 || await input.ReadAtLeastAsync(header, 16, throwOnEndOfStream: false, cancellationToken) != 16)
        {
            return -1;
        }

        var (magic, count) = (BinaryPrimitives.ReadUInt64LittleEndian(header), BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8)));
        return magic == Magic && count <= MaxNames && input.Length == 16 + (8 * (long)count) ? (long)count : -1;
    }

    /// <summary>The first <paramref name="count"/> hashes of <paramref name="sorted"/> that the snapshot in <paramref name="input"/> does not hold (a merge of two sorted runs).</summary>
    public static async Task<HashSet<ulong>> NotInAsync(Stream input, ulong[] sorted, int count, CancellationToken cancellationToken)
    {
        var added = new HashSet<ulong>();
        input.Seek(16, SeekOrigin.Begin);
        var bytes = new byte[8 * 8192];
        int length = 0, at = 0;
        var i = 0;
        while (i < count)
        {
            if (at == length)
            {
                // ReadAtLeast: a short read (network file systems, object stores) must not split a hash.
                length = await input.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, cancellationToken) / 8;
                at = 0;
                if (length == 0)
                {
                    break;
                }
            }

            var old = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at * 8));
            if (old < sorted[i])
            {
                at++;
            }
            else if (old == sorted[i])
            {
                at++;
                i++;
            }
            else
            {
                added.Add(sorted[i++]);
            }
        }

        for (; i < count; i++)
        {
            added.Add(sorted[i]);
        }

        return added;
    }

    /// <summary>Replaces the snapshot under <paramref name="key"/>: nothing of it is visible until the whole of it is committed.</summary>
    public static async Task WriteAsync(IArtifactStore store, string key, ulong[] sorted, int count, CancellationToken cancellationToken)
    {
        await using var write = await store.BeginWriteAsync(key, cancellationToken);
        var buffer = new byte[8 * 8192];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(8), (ulong)count);
        await write.Content.WriteAsync(buffer.AsMemory(0, 16), cancellationToken);
        for (var start = 0; start < count; start += 8192)
        {
            var chunk = Math.Min(8192, count - start);
            for (var j = 0; j < chunk; j++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(j * 8), sorted[start + j]);
            }

            await write.Content.WriteAsync(buffer.AsMemory(0, chunk * 8), cancellationToken);
        }

        await write.CommitAsync(cancellationToken);
    }
}

/// <summary>
/// The background job of <see cref="UpstreamNameScreening"/>. Schedule: <c>Jobs:UpstreamNames:Schedule</c>.
/// </summary>
public sealed class UpstreamNamesJob(UpstreamNameScreening screening, IJobProgress progress) : IScheduledJob
{
    public const string Key = "UpstreamNames";

    /// <summary>Hourly, at minute 7 (UTC), when <c>Jobs:UpstreamNames:Schedule</c> is not set.</summary>
    public const string DefaultSchedule = "7 * * * *";

    public async Task RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        var result = await screening.RunOnceAsync((done, total) => progress.ReportAsync(context, done, total, cancellationToken), cancellationToken);
        JobRunRecorder.SetResult(context, result.Describe());
    }
}

public static class UpstreamNamesRegistration
{
    public static IServiceCollection AddUpstreamNameScreening(this IServiceCollection services)
    {
        services.AddSingleton<UpstreamNameScreening>();
        services.AddCuratedIndexJob<UpstreamNamesJob>(
            UpstreamNamesJob.Key,
            "Revalidates the upstream project list and screens the names that are new since the last run for typosquats.",
            UpstreamNamesJob.DefaultSchedule);
        return services;
    }
}

internal static partial class UpstreamNamesLog
{
    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "{Added} of the upstream list's names are new since the last run ({Previous} before): taken as a new baseline, none screened (a different upstream?)")]
    public static partial void Rebaseline(ILogger logger, long added, long previous);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Upstream lists {Count} names; first list seen on this node, kept as the baseline (none screened)")]
    public static partial void Baseline(ILogger logger, long count);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Upstream lists {Count} names; {Added} new names screened, {Flagged} flagged")]
    public static partial void Screened(ILogger logger, long count, long added, long flagged);
}
