namespace CuratedIndex.Features.Files;

internal static partial class FilesLog
{
    [LoggerMessage(2000, LogLevel.Warning, "Refused to fetch {Filename}: host {Host} is not allowed")]
    public static partial void HostRefused(ILogger logger, string filename, string host);

    [LoggerMessage(2001, LogLevel.Error, "Download of {Filename} failed; nothing stored: {Reason}")]
    public static partial void DownloadFailed(ILogger logger, string filename, string reason);

    [LoggerMessage(2002, LogLevel.Error, "Stored artifact {StoreKey} ended at byte {Offset} of {Length} while it was sent (changed under the server); the response was aborted")]
    public static partial void StoredFileShrank(ILogger logger, string storeKey, long offset, long length);

    [LoggerMessage(2003, LogLevel.Error, "Stored artifact {StoreKey} is {Length} bytes, the index says {ExpectedSize}; not served, fetched again")]
    public static partial void StoredSizeMismatch(ILogger logger, string storeKey, long length, long expectedSize);

    [LoggerMessage(2004, LogLevel.Warning, "Another node's download of {Filename} took longer than {Wait}; this node downloads it too")]
    public static partial void SharedDownloadWaitExpired(ILogger logger, string filename, TimeSpan wait);

    [LoggerMessage(2005, LogLevel.Warning, "Downloading {Filename} without the cluster-wide lock: the database cannot be reached ({Reason})")]
    public static partial void SharedDownloadUnlocked(ILogger logger, string filename, string reason);

    [LoggerMessage(2006, LogLevel.Warning, "{Filename} is stored and verified but not recorded for the scrub job: the database cannot be reached ({Reason})")]
    public static partial void StoredNotRecorded(ILogger logger, string filename, string reason);
}
