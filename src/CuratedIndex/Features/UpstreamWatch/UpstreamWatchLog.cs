namespace CuratedIndex.Features.UpstreamWatch;

internal static partial class UpstreamWatchLog
{
    [LoggerMessage(EventId = 7400, Level = LogLevel.Warning, Message = "Upstream watch of {Project} failed; the pass goes on")]
    public static partial void ProjectFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 7401, Level = LogLevel.Warning, Message = "Upstream watch could not read {Project}: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string project, string reason);

    [LoggerMessage(EventId = 7402, Level = LogLevel.Information, Message = "New releases of {Project} seen upstream: {Versions}")]
    public static partial void NewReleasesSeen(ILogger logger, string project, IReadOnlyList<string> versions);

    [LoggerMessage(EventId = 7403, Level = LogLevel.Warning, Message = "Approved project {Project} is quarantined upstream: {Reason}")]
    public static partial void Quarantined(ILogger logger, string project, string reason);

    [LoggerMessage(EventId = 7404, Level = LogLevel.Information, Message = "Upstream watch pass: {Projects} projects, {NewFiles} new files, {RemovedFiles} removed, {YankChanges} yank changes, {Alerts} alerts, {Failures} failures")]
    public static partial void PassDone(ILogger logger, int projects, int newFiles, int removedFiles, int yankChanges, int alerts, int failures);

    [LoggerMessage(EventId = 7405, Level = LogLevel.Debug, Message = "Upstream watch of {Project}: another node recorded the same change first")]
    public static partial void RecordedElsewhere(ILogger logger, string project);
}
