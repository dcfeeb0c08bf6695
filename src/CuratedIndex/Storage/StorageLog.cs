namespace CuratedIndex.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(13000, LogLevel.Error, "Request for {Filename} answered 503: {Reason}")]
    public static partial void StoreUnavailable(ILogger logger, string filename, string reason);
}
