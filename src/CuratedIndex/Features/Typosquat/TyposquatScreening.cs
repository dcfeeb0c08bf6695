using System.Collections.Concurrent;
using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Typosquat;

/// <summary>
/// Typosquat detection as the rest of the application sees it: a finding for a name against the popular corpus and
/// the organization's names (approved by policy or by a reviewer, and internal) in force in a <see cref="Curation"/>;
/// and findings written once per (project, imitated project) with the review request's risk raised to match.
/// </summary>
public sealed class TyposquatScreening(IServiceProvider services, IServiceScopeFactory scopes, TimeProvider clock, ILogger<TyposquatScreening> logger)
{
    // Bounds the memory a stream of made-up lookalike names can take; forgetting only costs a no-op upsert.
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<(string Project, string Imitated), byte> _recorded = new();
    private volatile Snapshot? _snapshot;
    private int _loadFailed;

    /// <summary>The most suspicious finding for <paramref name="project"/> (normalized), or null. Never throws.</summary>
    public TyposquatSignal? Check(Curation curation, string project) =>
        CheckAll(curation, project) is [var best, ..] ? Signal(best) : null;

    /// <summary>True when the corpus is loaded, so that a null from <see cref="Check"/> means "looks like nothing".</summary>
    public bool IsAvailable(Curation curation) => DetectorFor(curation) is not null;

    internal IReadOnlyList<TyposquatFinding> CheckAll(Curation curation, string project)
    {
        var detector = DetectorFor(curation);
        return detector is null ? [] : detector.CheckAll(project);
    }

    /// <summary>
    /// Writes the finding (once per project and imitated project; later calls are free on this node) and raises the
    /// project's review request risk to the finding's score when the request exists.
    /// </summary>
    public async Task RecordAsync(string project, TyposquatSignal finding, CancellationToken cancellationToken)
    {
        var key = (project, finding.Imitated);
        if (_recorded.ContainsKey(key))
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var reasons = finding.Reasons.Length > 2000 ? finding.Reasons[..2000] : finding.Reasons;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        // The same statements work on SQLite (3.35+) and PostgreSQL.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO typosquat_findings (project, imitated, score, kind, reasons, first_seen_at)
            VALUES ({project}, {finding.Imitated}, {finding.Score}, {finding.Kind}, {reasons}, {now})
            ON CONFLICT (project, imitated) DO NOTHING
            """, cancellationToken);
        await db.Database.ExecuteSqlAsync($"UPDATE review_requests SET risk_score = {finding.Score} WHERE project = {project} AND risk_score < {finding.Score}", cancellationToken);
        if (_recorded.Count >= MaxRemembered)
        {
            _recorded.Clear();
        }

        _recorded.TryAdd(key, 0);
        TyposquatLog.Flagged(logger, project, finding.Imitated, finding.Score);
    }

    /// <summary>
    /// <see cref="RecordAsync"/> for callers whose answer must not depend on it (index requests, decisions, jobs): a null
    /// finding does nothing, and a failure is logged, not thrown. Free after the first time per node.
    /// </summary>
    public async Task TryRecordAsync(string project, TyposquatSignal? finding, CancellationToken cancellationToken)
    {
        if (finding is null)
        {
            return;
        }

        try
        {
            await RecordAsync(project, finding, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TyposquatLog.RecordFailed(logger, project, e);
        }
    }

    // One detector per Curation, rebuilt when the Curation changes (compared by reference).
    private TyposquatDetector? DetectorFor(Curation curation)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && ReferenceEquals(snapshot.Curation, curation))
        {
            return snapshot.Detector;
        }

        TyposquatDetector corpus;
        try
        {
            corpus = services.GetRequiredService<TyposquatDetector>();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            if (Interlocked.Exchange(ref _loadFailed, 1) == 0)
            {
                TyposquatLog.CorpusFailed(logger, e);
            }

            return null;
        }

        var detector = corpus.WithOrganizationNames(curation.OrganizationNames());
        _snapshot = new Snapshot(curation, detector);
        return detector;
    }

    private static TyposquatSignal Signal(TyposquatFinding finding) =>
        new(finding.Imitated, finding.Score, KindName(finding.Kind), string.Join("; ", finding.Reasons));

    internal static string KindName(TyposquatKind kind) => kind switch
    {
        TyposquatKind.Homoglyph => "homoglyph",
        TyposquatKind.Separator => "separator",
        TyposquatKind.WordOrder => "word-order",
        TyposquatKind.LanguageWordMoved => "language-word-moved",
        TyposquatKind.Swapped => "swapped",
        TyposquatKind.Doubled => "doubled",
        TyposquatKind.Dropped => "dropped",
        TyposquatKind.Added => "added",
        TyposquatKind.KeyboardSubstitution => "keyboard-substitution",
        TyposquatKind.Substitution => "substitution",
        TyposquatKind.DigitForDigit => "digit-for-digit",
        TyposquatKind.TrailingLetter => "trailing-letter",
        TyposquatKind.LeadingLetter => "leading-letter",
        TyposquatKind.AffixSwapped => "affix-swapped",
        TyposquatKind.AffixAdded => "affix-added",
        TyposquatKind.ReleaseWord => "release-word",
        TyposquatKind.MisspelledWord => "misspelled-word",
        _ => "affix-and-typo",
    };

    private sealed record Snapshot(Curation Curation, TyposquatDetector Detector);
}

internal static partial class TyposquatLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "{Project} looks like {Imitated} (typosquat score {Score})")]
    public static partial void Flagged(ILogger logger, string project, string imitated, double score);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "The typosquat corpus could not be loaded; names are not checked")]
    public static partial void CorpusFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Recording the typosquat finding for {Project} failed")]
    public static partial void RecordFailed(ILogger logger, string project, Exception exception);
}
