namespace CuratedIndex.Features.Files;

internal static partial class FilesLog
{
    [LoggerMessage(2000, LogLevel.Warning, "Refused to fetch {Filename}: host {Host} is not allowed")]
    public static partial void HostRefused(ILogger logger, string filename, string host);

    [LoggerMessage(2001, LogLevel.Error, "Download of {Filename} failed; nothing stored: {Reason}")]
    public static partial void DownloadFailed(ILogger logger, string filename, string reason);
}
