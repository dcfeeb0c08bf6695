namespace CuratedIndex.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(100, LogLevel.Warning, "Refused request path: {Reason}")]
    public static partial void PathRefused(ILogger logger, string reason);

    [LoggerMessage(101, LogLevel.Information, "Database migrated ({Provider})")]
    public static partial void Migrated(ILogger logger, string provider);

    [LoggerMessage(102, LogLevel.Information, "Refused request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string reason);

    [LoggerMessage(103, LogLevel.Information, "Index reads run on the socket threads (Server:InlineScheduling, DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS={Value})")]
    public static partial void InlineScheduling(ILogger logger, string? value);

    [LoggerMessage(110, LogLevel.Warning, "Counting {Queue} for the queue gauges failed ({Error})")]
    public static partial void QueueCountFailed(ILogger logger, string queue, string error);

    [LoggerMessage(111, LogLevel.Warning, "Not ready: {Check} failed ({Reason})")]
    public static partial void NotReady(ILogger logger, string check, string reason, Exception? exception);

    [LoggerMessage(112, LogLevel.Information, "Telemetry: metrics and traces are exported over OTLP to {Endpoint} as service {Service}, instance {Instance}")]
    public static partial void TelemetryExported(ILogger logger, string endpoint, string service, string instance);

    public static void InlineScheduling(ILogger logger) => InlineScheduling(logger, Environment.GetEnvironmentVariable(SocketThreads.InlineCompletionsVariable));

    [LoggerMessage(120, LogLevel.Warning, "{Method} {Path} answered 503: the database is unavailable ({Reason})")]
    public static partial void DatabaseUnavailable(ILogger logger, string method, string path, string reason);
}
