using System.Globalization;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// When a job runs, from <c>Jobs:{key}:Schedule</c>: a 5-field cron expression in UTC as Hangfire takes it
/// (<c>minute hour day-of-month month day-of-week</c>, e.g. <c>0 3 * * *</c> for daily at 03:00), or <c>manual</c>
/// (only an admin's "Run now" or <c>POST /api/v1/jobs/{key}/run</c>). The forms earlier versions took (a 6- or 7-field
/// cron with seconds and <c>?</c>, or a TimeSpan interval) are refused with the 5-field expression to use instead.
/// </summary>
public sealed record JobSchedule(string? Cron)
{
    public const string ManualText = "manual";

    public static readonly JobSchedule Manual = new((string?)null);

    private static readonly (string Name, int Min, int Max, string[]? Names)[] Fields =
    [
        ("minute", 0, 59, null),
        ("hour", 0, 23, null),
        ("day of month", 1, 31, null),
        ("month", 1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
        ("day of week", 0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
    ];

    public bool IsManual => Cron is null;

    /// <summary>Reads a schedule; a <see cref="FormatException"/> says in one sentence what is wrong and what to write instead.</summary>
    public static JobSchedule Parse(string? text)
    {
        var value = text?.Trim() ?? "";
        if (value.Length == 0 || value.Equals(ManualText, StringComparison.OrdinalIgnoreCase))
        {
            return Manual;
        }

        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var interval))
        {
            throw new FormatException($"'{value}' is an interval, which schedules no longer take; use a 5-field cron (UTC) such as '{CronForInterval(interval)}' or '{ManualText}'");
        }

        var fields = value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length is 6 or 7 || value.Contains('?', StringComparison.Ordinal))
        {
            throw new FormatException($"'{value}' is a cron with seconds or '?' (6 or 7 fields), which Hangfire does not take; use a 5-field cron (UTC) such as '{FiveFieldsOf(fields)}' or '{ManualText}'");
        }

        if (fields.Length != 5)
        {
            throw new FormatException($"'{value}' is not a 5-field cron (minute hour day-of-month month day-of-week, UTC) nor '{ManualText}'");
        }

        for (var i = 0; i < fields.Length; i++)
        {
            if (FieldProblem(fields[i], Fields[i]) is { } problem)
            {
                throw new FormatException($"'{value}': the {Fields[i].Name} field '{fields[i]}' {problem}; use a 5-field cron (UTC) such as '0 3 * * *' or '{ManualText}'");
            }
        }

        return new JobSchedule(string.Join(' ', fields));
    }

    public override string ToString() => Cron is { } cron ? $"cron {cron} (UTC)" : ManualText;

    // A list of items, each `*`, a value or a range, optionally with a `/step`.
    private static string? FieldProblem(string field, (string Name, int Min, int Max, string[]? Names) spec)
    {
        foreach (var item in field.Split(','))
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var range = slash < 0 ? item : item[..slash];
            if (slash >= 0 && (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var step) || step < 1))
            {
                return "has a step that is not a positive number";
            }

            if (range == "*")
            {
                continue;
            }

            var dash = range.IndexOf('-', StringComparison.Ordinal);
            var bounds = dash < 0 ? [range] : new[] { range[..dash], range[(dash + 1)..] };
            int? first = null;
            foreach (var bound in bounds)
            {
                if (Value(bound, spec) is not { } number)
                {
                    return $"must hold numbers {spec.Min}-{spec.Max}" + (spec.Names is null ? "" : " or names") + ", '*', ',', '-' and '/'";
                }

                if (first is { } low && number < low)
                {
                    return "has a range that runs backwards";
                }

                first = number;
            }
        }

        return null;
    }

    private static int? Value(string text, (string Name, int Min, int Max, string[]? Names) spec)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number >= spec.Min && number <= spec.Max ? number : null;
        }

        var index = spec.Names is null ? -1 : Array.FindIndex(spec.Names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return index < 0 ? null : index + (spec.Min == 1 ? 1 : 0);
    }

    // The old 6/7-field form is `second minute hour day month weekday [year]`: drop the seconds and the year, '?' is '*'.
    private static string FiveFieldsOf(string[] fields) =>
        fields.Length is 6 or 7 ? string.Join(' ', fields[1..6].Select(f => f == "?" ? "*" : f)) : "0 3 * * *";

    private static string CronForInterval(TimeSpan interval) => interval switch
    {
        { TotalMinutes: >= 1 and < 60 } when interval.Seconds == 0 && 60 % interval.Minutes == 0 => $"*/{interval.Minutes} * * * *",
        { TotalHours: 1 } => "0 * * * *",
        { TotalHours: > 1 and < 24 } when interval.Minutes == 0 && interval.Seconds == 0 && 24 % interval.Hours == 0 => $"0 */{interval.Hours} * * *",
        { TotalDays: 1 } => "0 0 * * *",
        { TotalDays: 7 } => "0 0 * * 0",
        _ => "0 3 * * *",
    };
}
