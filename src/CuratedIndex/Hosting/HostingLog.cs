namespace CuratedIndex.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(100, LogLevel.Warning, "Refused request path: {Reason}")]
    public static partial void PathRefused(ILogger logger, string reason);

    [LoggerMessage(101, LogLevel.Information, "Database migrated ({Provider})")]
    public static partial void Migrated(ILogger logger, string provider);

    [LoggerMessage(102, LogLevel.Information, "Refused request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string reason);
}
