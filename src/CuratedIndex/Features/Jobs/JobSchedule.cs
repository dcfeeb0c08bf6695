using System.Globalization;
using Quartz;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// When a job runs, from <c>Jobs:{key}:Schedule</c>: a Quartz cron expression with seconds (<c>0 0 3 * * ?</c>, daily at 03:00 UTC),
/// an interval as a TimeSpan (<c>01:00:00</c>, <c>1.00:00:00</c>; the first run is one interval after the trigger is created),
/// or <c>manual</c> (only an admin's "Run now").
/// </summary>
public sealed record JobSchedule(string? Cron, TimeSpan? Interval)
{
    public const string ManualText = "manual";

    public static readonly JobSchedule Manual = new(null, null);

    public bool IsManual => Cron is null && Interval is null;

    public static JobSchedule Parse(string? text)
    {
        var value = text?.Trim() ?? "";
        if (value.Length == 0 || value.Equals(ManualText, StringComparison.OrdinalIgnoreCase))
        {
            return Manual;
        }

        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var interval))
        {
            return interval > TimeSpan.Zero ? new JobSchedule(null, interval) : throw new FormatException($"schedule interval '{value}' must be positive");
        }

        if (!CronExpression.TryParse(value, out _))
        {
            throw new FormatException($"schedule '{value}' is neither a Quartz cron expression, an interval (hh:mm:ss) nor 'manual'");
        }

        return new JobSchedule(value, null);
    }

    public override string ToString() =>
        Cron is { } cron ? $"cron {cron} (UTC)" : Interval is { } interval ? $"every {interval.ToString("c", CultureInfo.InvariantCulture)}" : ManualText;
}
