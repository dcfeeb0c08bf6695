using System.Runtime.InteropServices;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.SimpleIndex;

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
/// one the previous run saw on this node (kept as a sorted file of 64-bit name hashes beside the page cache, about 8 bytes
/// a name); only names not in it are checked, and each finding is recorded (no review request is created). The first run
/// on a node is a baseline: it remembers the list and screens nothing.
/// </summary>
public sealed class UpstreamNameScreening(
    RootIndexService roots,
    CurationStore curations,
    TyposquatScreening typosquats,
    DependencyConfusionAlerts alerts,
    ILogger<UpstreamNameScreening> logger)
{
    public const string SnapshotFile = "upstream-names.snapshot";
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

        await using (listing)
        {
            var path = Path.Combine(roots.CacheDirectory, SnapshotFile);
            var previous = NameSnapshot.CountOf(path);
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
                NameSnapshot.Write(path, hashes.AsSpan(0, count));
                UpstreamNamesLog.Baseline(logger, count);
                return new UpstreamNamesResult(true, count, 0, 0, internalNames.Count);
            }

            var added = NameSnapshot.NotIn(path, hashes.AsSpan(0, count));
            var total = added.Count;
            if (total > Math.Max(MinNewNamesForRebaseline, previous / 20))
            {
                // More than 5% of the list new at once is not publishing activity but another upstream (Upstream:Url
                // changed) or a lost snapshot: screening it all would bury the real findings under established names.
                NameSnapshot.Write(path, hashes.AsSpan(0, count));
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

            NameSnapshot.Write(path, hashes.AsSpan(0, count));
            UpstreamNamesLog.Screened(logger, count, screened, flagged);
            return new UpstreamNamesResult(false, count, screened, flagged, internalNames.Count);
        }
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

    /// <summary>How many names the snapshot at <paramref name="path"/> holds; -1 when there is none (or it is not one).</summary>
    public static long CountOf(string path)
    {
        try
        {
            using var input = File.OpenRead(path);
            Span<ulong> header = stackalloc ulong[2];
            return input.Length >= 16 && input.ReadAtLeast(MemoryMarshal.AsBytes(header), 16, throwOnEndOfStream: false) == 16 && header[0] == Magic && input.Length == 16 + (8 * (long)header[1])
                ? (long)header[1]
                : -1;
        }
        catch (FileNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>The hashes in <paramref name="sorted"/> that the snapshot at <paramref name="path"/> does not hold (a merge of two sorted runs).</summary>
    public static HashSet<ulong> NotIn(string path, ReadOnlySpan<ulong> sorted)
    {
        var added = new HashSet<ulong>();
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        input.Seek(16, SeekOrigin.Begin);
        Span<ulong> buffer = new ulong[8192];
        int length = 0, at = 0;
        var i = 0;
        while (i < sorted.Length)
        {
            if (at == length)
            {
                // ReadAtLeast: a short read (network file systems) must not split a hash.
                length = input.ReadAtLeast(MemoryMarshal.AsBytes(buffer), MemoryMarshal.AsBytes(buffer).Length, throwOnEndOfStream: false) / 8;
                at = 0;
                if (length == 0)
                {
                    break;
                }
            }

            var old = buffer[at];
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

        for (; i < sorted.Length; i++)
        {
            added.Add(sorted[i]);
        }

        return added;
    }

    /// <summary>Replaces the snapshot at <paramref name="path"/> (written beside it, then moved over it).</summary>
    public static void Write(string path, ReadOnlySpan<ulong> sorted)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<ulong> header = [Magic, (ulong)sorted.Length];
                output.Write(MemoryMarshal.AsBytes(header));
                output.Write(MemoryMarshal.AsBytes(sorted));
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
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
