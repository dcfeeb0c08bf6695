using CuratedIndex.Features.Jobs;
using Microsoft.Extensions.Configuration;

namespace CuratedIndex.Tests.Features.Jobs;

public sealed class JobScheduleTests
{
    [Theory]
    [InlineData("0 3 * * *", "0 3 * * *")]
    [InlineData("*/15 * * * *", "*/15 * * * *")]
    [InlineData(" 7  * * * * ", "7 * * * *")]
    [InlineData("0 0 1,15 JAN-JUN mon-fri", "0 0 1,15 JAN-JUN mon-fri")]
    [InlineData("5-55/10 0-23/2 * * 0,7", "5-55/10 0-23/2 * * 0,7")]
    public void Parse_FiveFieldCron_Recognized(string text, string cron) => Assert.Equal(cron, JobSchedule.Parse(text).Cron);

    [Theory]
    [InlineData("manual")]
    [InlineData("MANUAL")]
    [InlineData("")]
    [InlineData(null)]
    public void Parse_ManualOrEmpty_IsManual(string? text) => Assert.True(JobSchedule.Parse(text).IsManual);

    [Theory]
    [InlineData("0 0 3 * * ?", "'0 3 * * *'")]
    [InlineData("0 */15 * * * ?", "'*/15 * * * *'")]
    [InlineData("0 7 * * * ? 2027", "'7 * * * *'")]
    [InlineData("0 3 * * ?", "'0 3 * * *'")]
    public void Parse_CronWithSecondsOrQuestionMark_RefusedWithTheFiveFieldForm(string text, string suggestion)
    {
        var error = Assert.Throws<FormatException>(() => JobSchedule.Parse(text));

        Assert.Contains($"'{text}' is a cron with seconds or '?'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"such as {suggestion} or 'manual'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("01:00:00", "'0 * * * *'")]
    [InlineData("06:00:00", "'0 */6 * * *'")]
    [InlineData("00:15:00", "'*/15 * * * *'")]
    [InlineData("1.00:00:00", "'0 0 * * *'")]
    [InlineData("00:00:00", "'0 3 * * *'")]
    public void Parse_Interval_RefusedWithACron(string text, string suggestion)
    {
        var error = Assert.Throws<FormatException>(() => JobSchedule.Parse(text));

        Assert.Contains("is an interval", error.Message, StringComparison.Ordinal);
        Assert.Contains($"such as {suggestion}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("every day")]
    [InlineData("0 25 * * *")]
    [InlineData("60 * * * *")]
    [InlineData("0 0 0 * *")]
    [InlineData("0 0 * 13 *")]
    [InlineData("0 0 * * 8")]
    [InlineData("0 0 * * MOO")]
    [InlineData("*/0 * * * *")]
    [InlineData("30-10 * * * *")]
    [InlineData("0 0 * *")]
    [InlineData("0 0 L * *")]
    public void Parse_Invalid_Throws(string text) => Assert.Throws<FormatException>(() => JobSchedule.Parse(text));

    [Fact]
    public void Catalog_OldFormInConfiguration_OneLineNamingTheKeyAndTheFix()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Jobs:Scrub:Schedule"] = "0 0 3 * * ?" }).Build();

        var error = Assert.Throws<JobScheduleException>(() => new JobCatalog([new JobDefinition("Scrub", typeof(object), "scrub", "0 3 * * *")], configuration));

        Assert.Equal(
            "Jobs:Scrub:Schedule: '0 0 3 * * ?' is a cron with seconds or '?' (6 or 7 fields), which Hangfire does not take; use a 5-field cron (UTC) such as '0 3 * * *' or 'manual'",
            error.Message);
    }

    [Fact]
    public void Catalog_DefaultSchedules_AreFiveFieldCrons()
    {
        var catalog = new JobCatalog(
            [
                new JobDefinition(CuratedIndex.Features.UpstreamWatch.UpstreamWatchJob.Key, typeof(object), "", CuratedIndex.Features.UpstreamWatch.UpstreamWatchJob.DefaultSchedule),
                new JobDefinition(CuratedIndex.Features.Typosquat.UpstreamNamesJob.Key, typeof(object), "", CuratedIndex.Features.Typosquat.UpstreamNamesJob.DefaultSchedule),
            ],
            new ConfigurationBuilder().Build());

        Assert.All(catalog.Jobs, j => Assert.Equal(5, j.Schedule.Cron!.Split(' ').Length));
    }
}
