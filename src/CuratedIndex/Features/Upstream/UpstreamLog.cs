namespace CuratedIndex.Features.Upstream;

internal static partial class UpstreamLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Upstream destination {Destination} failed for {Path}: {Reason}")]
    public static partial void DestinationFailed(ILogger logger, string destination, string path, string reason);

    [LoggerMessage(1001, LogLevel.Warning, "Serving the last good page of {Project} because upstream failed: {Reason}")]
    public static partial void ServingStale(ILogger logger, string project, string reason);

    [LoggerMessage(1002, LogLevel.Warning, "Upstream page of {Project} refused: {Reason}")]
    public static partial void PageRefused(ILogger logger, string project, string reason);

    [LoggerMessage(1003, LogLevel.Warning, "Upstream page of {Project}: {Dropped} left out")]
    public static partial void FileDropped(ILogger logger, string project, string dropped);
}
