namespace CuratedIndex.Features.Provenance;

internal static partial class ProvenanceLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "{Actor} {Action} publisher {Publisher} of {Project}")]
    public static partial void PublisherDecided(ILogger logger, string actor, string action, string publisher, string project);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Critical, Message = "Provenance of {Filename} ({Project}) failed verification: {Reason}")]
    public static partial void VerificationFailed(ILogger logger, string project, string filename, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Provenance of {Filename} ({Project}) could not be fetched: {Reason}")]
    public static partial void FetchFailed(ILogger logger, string project, string filename, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Recording provenance of {Project} failed")]
    public static partial void RecordFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Information, Message = "Automatic vetting: {Vetted} releases vetted, {Waiting} waiting ({Reasons})")]
    public static partial void AutoPass(ILogger logger, int vetted, int waiting, string reasons);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "Automatic vetting of {Project} {Version} scheduled for {At}")]
    public static partial void AutoScheduled(ILogger logger, string project, string version, DateTimeOffset at);
}
