using System.Globalization;
using CuratedIndex.Data;
using CuratedIndex.Features.Review;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>One series of a bar chart: a name, a fill colour and one value per day.</summary>
public sealed record ChartSeries(string Name, string Color, IReadOnlyList<long> Values);

/// <summary>
/// A stacked bar chart over days, laid out here and drawn as inline SVG by <c>Pages/Shared/_BarChart.cshtml</c>
/// (Razor encodes every label; no script, no external resource).
/// </summary>
public sealed record BarChart(string Id, string Title, IReadOnlyList<DateOnly> Days, IReadOnlyList<ChartSeries> Series)
{
    public const int Width = 640;
    public const int Height = 180;
    public const int Left = 44;
    public const int Bottom = 22;
    public const int Top = 8;

    public long Max => Math.Max(1, Enumerable.Range(0, Days.Count).Select(i => Series.Sum(s => s.Values[i])).DefaultIfEmpty(0).Max());

    public double BarWidth => (Width - Left - 4) / (double)Math.Max(1, Days.Count);

    /// <summary>The bars, bottom series first, with a tooltip text each (SVG &lt;title&gt;).</summary>
    public IEnumerable<(double X, double Y, double W, double H, string Color, string Tip)> Bars()
    {
        var plot = Height - Bottom - Top;
        for (var i = 0; i < Days.Count; i++)
        {
            double stacked = 0;
            foreach (var series in Series)
            {
                var value = series.Values[i];
                if (value == 0)
                {
                    continue;
                }

                var h = value * plot / (double)Max;
                var y = Height - Bottom - stacked - h;
                stacked += h;
                yield return (Left + (i * BarWidth) + 1, y, Math.Max(1, BarWidth - 2), h, series.Color, $"{Day(Days[i])}: {value.ToString(CultureInfo.InvariantCulture)} {series.Name}");
            }
        }
    }

    public string FirstDay => Days.Count == 0 ? "" : Day(Days[0]);

    public string LastDay => Days.Count == 0 ? "" : Day(Days[^1]);

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}

public sealed record StatusCounts(int Pending, int Approved, int Denied, int Deferred);

public sealed record DashboardData(StatusCounts Counts, IReadOnlyList<BarChart> RequestsPerEnvironment, BarChart QueueSize, BarChart Blocked, long ServedTotal, long BlockedTotal);

/// <summary>The dashboard's numbers. Every query is bounded to the last <see cref="Days"/> days (or is a grouped count).</summary>
public sealed class DashboardQueries(CuratedIndexDbContext db, TimeProvider clock)
{
    public const int Days = 30;
    private const string ServedColor = "#3b7d4f";
    private const string BlockedColor = "#b8433a";
    private const string QueueColor = "#3a5f9e";

    public async Task<DashboardData> LoadAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = today.AddDays(1 - Days);
        var days = Enumerable.Range(0, Days).Select(first.AddDays).ToList();

        var byStatus = await db.ReviewRequests.AsNoTracking().GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        int Count(string status) => byStatus.FirstOrDefault(s => s.Key == status)?.Count ?? 0;
        var counts = new StatusCounts(Count(VerdictText.Pending), Count(VerdictText.Approved), Count(VerdictText.Denied), Count(VerdictText.Deferred));

        var daily = await db.DailyRequestCounts.AsNoTracking().Where(c => c.Day >= first).ToListAsync(cancellationToken);
        long[] Series(IEnumerable<DailyRequestCount> rows)
        {
            var values = new long[Days];
            foreach (var row in rows)
            {
                var index = row.Day.DayNumber - first.DayNumber;
                if (index is >= 0 and < Days)
                {
                    values[index] += row.Count;
                }
            }

            return values;
        }

        var perEnvironment = daily.GroupBy(c => c.Environment, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new BarChart(
                $"requests-{g.Key}",
                $"Requests in {g.Key}",
                days,
                [
                    new ChartSeries(RequestOutcome.Served, ServedColor, Series(g.Where(c => c.Outcome == RequestOutcome.Served))),
                    new ChartSeries(RequestOutcome.Blocked, BlockedColor, Series(g.Where(c => c.Outcome == RequestOutcome.Blocked))),
                ]))
            .ToList();
        var blocked = new BarChart("blocked", "Blocked requests, all environments", days, [new ChartSeries(RequestOutcome.Blocked, BlockedColor, Series(daily.Where(c => c.Outcome == RequestOutcome.Blocked)))]);

        var queue = new BarChart("queue-size", "Pending review requests at the end of each day", days, [new ChartSeries("pending", QueueColor, await QueueSizeAsync(first, cancellationToken))]);
        return new DashboardData(counts, perEnvironment, queue, blocked, daily.Where(c => c.Outcome == RequestOutcome.Served).Sum(c => c.Count), daily.Where(c => c.Outcome == RequestOutcome.Blocked).Sum(c => c.Count));
    }

    /// <summary>
    /// Pending at the end of each day = pending when the window opened + requests first seen since − requests decided
    /// since. A request remembers only its latest decision, so one decided twice in the window counts once: the
    /// figure is the queue as it stands after each day's last decision, which is what a reviewer plans with.
    /// </summary>
    private async Task<long[]> QueueSizeAsync(DateOnly first, CancellationToken cancellationToken)
    {
        var start = first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var before = await db.ReviewRequests.AsNoTracking()
            .CountAsync(r => r.FirstRequestedAt < start && (r.DecidedAt == null || r.DecidedAt >= start), cancellationToken);
        var arrived = await db.ReviewRequests.AsNoTracking().Where(r => r.FirstRequestedAt >= start).Select(r => r.FirstRequestedAt).ToListAsync(cancellationToken);
        var decided = await db.ReviewRequests.AsNoTracking().Where(r => r.DecidedAt >= start).Select(r => r.DecidedAt!.Value).ToListAsync(cancellationToken);
        var delta = new long[Days];
        foreach (var time in arrived)
        {
            Add(time, +1);
        }

        foreach (var time in decided)
        {
            Add(time, -1);
        }

        var sizes = new long[Days];
        long running = before;
        for (var i = 0; i < Days; i++)
        {
            running += delta[i];
            sizes[i] = Math.Max(0, running);
        }

        return sizes;

        void Add(DateTime time, int change)
        {
            var index = DateOnly.FromDateTime(time).DayNumber - first.DayNumber;
            if (index is >= 0 and < Days)
            {
                delta[index] += change;
            }
        }
    }
}
