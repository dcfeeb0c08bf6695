using CuratedIndex.Features.Jobs;

namespace CuratedIndex.Tests.Features.Jobs;

public sealed class JobScheduleTests
{
    [Theory]
    [InlineData("0 0 3 * * ?", "0 0 3 * * ?", null)]
    [InlineData("01:00:00", null, "01:00:00")]
    [InlineData("1.00:00:00", null, "1.00:00:00")]
    public void Parse_CronOrInterval_Recognized(string text, string? cron, string? interval)
    {
        var schedule = JobSchedule.Parse(text);

        Assert.Equal(cron, schedule.Cron);
        Assert.Equal(interval is null ? null : TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), schedule.Interval);
    }

    [Theory]
    [InlineData("manual")]
    [InlineData("")]
    [InlineData(null)]
    public void Parse_ManualOrEmpty_IsManual(string? text) => Assert.True(JobSchedule.Parse(text).IsManual);

    [Theory]
    [InlineData("every day")]
    [InlineData("00:00:00")]
    [InlineData("0 0 25 * * ?")]
    public void Parse_Invalid_Throws(string text) => Assert.Throws<FormatException>(() => JobSchedule.Parse(text));
}
