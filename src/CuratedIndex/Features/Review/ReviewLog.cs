namespace CuratedIndex.Features.Review;

internal static partial class ReviewLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Reading reviewer decisions failed; keeping the ones held")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "{Actor} {Verdict} {Project}: {Reason}")]
    public static partial void Decided(ILogger logger, string actor, string verdict, string project, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Recording demand for {Project} failed")]
    public static partial void DemandFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Writing request counts failed; they are kept for the next attempt")]
    public static partial void CountsFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Reviewer {Decision} is not followed: {Problem}; it is hidden until a reviewer decides again")]
    public static partial void UnverifiedDecision(ILogger logger, string decision, string problem);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Recording the incident for an unverified decision on {Project} failed")]
    public static partial void IncidentFailed(ILogger logger, string project, Exception exception);
}
