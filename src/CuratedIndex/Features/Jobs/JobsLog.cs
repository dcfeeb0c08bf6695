namespace CuratedIndex.Features.Jobs;

internal static partial class JobsLog
{
    [LoggerMessage(12000, LogLevel.Information, "Job {Job} scheduled: {Schedule}")]
    public static partial void Scheduled(ILogger logger, string job, string schedule);

    [LoggerMessage(12001, LogLevel.Error, "Job {Job} failed")]
    public static partial void JobFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(12002, LogLevel.Warning, "Could not record the run of job {Job}")]
    public static partial void BookkeepingFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(12003, LogLevel.Information, "Job {Job} triggered by {Actor}")]
    public static partial void Triggered(ILogger logger, string job, string actor);

    [LoggerMessage(12004, LogLevel.Information, "Job {Job} skipped: another run of it is in progress")]
    public static partial void Skipped(ILogger logger, string job);

    [LoggerMessage(12005, LogLevel.Information, "Job {Job} removed from the schedule (manual)")]
    public static partial void Unscheduled(ILogger logger, string job);

    [LoggerMessage(12100, LogLevel.Warning, "Scrub: {Filename} does not match its sha256: {Detail}")]
    public static partial void ScrubMismatch(ILogger logger, string filename, string detail);

    [LoggerMessage(12101, LogLevel.Information, "Scrub finished: {Verified} verified, {Mismatched} mismatched, {Refetched} re-fetched")]
    public static partial void ScrubFinished(ILogger logger, int verified, int mismatched, int refetched);
}
