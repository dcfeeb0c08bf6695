namespace CuratedIndex.Features.ReviewUi;

/// <summary>Log messages of the review UI (event ids 9000-9099).</summary>
internal static partial class ReviewUiLog
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Warning, Message = "Evidence for {Project} could not be read")]
    public static partial void EvidenceFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "{UserName} signed in to the review UI")]
    public static partial void SignedIn(ILogger logger, string userName);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Sign-in refused for {UserName}")]
    public static partial void SignInRefused(ILogger logger, string userName);
}
