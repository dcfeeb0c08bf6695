using System.Globalization;
using System.Security.Claims;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Releases;

/// <summary>What an import did with one vetting of an audits file.</summary>
public static class ImportOutcome
{
    public const string Vetted = "vetted";

    /// <summary><c>--dry-run</c>: the vetting would be made.</summary>
    public const string WouldVet = "would-vet";

    /// <summary>Nothing to do: vetted here already, or rejected here (an import never overrides a reviewer's rejection).</summary>
    public const string Skipped = "skipped";

    /// <summary>The vetting does not match upstream (a file whose sha256 differs, a file upstream does not list): never imported.</summary>
    public const string Refused = "refused";

    /// <summary>The release may not be vetted now (<see cref="VetStatus.NotNow"/>): import it again later.</summary>
    public const string Waiting = "waiting";
}

/// <summary>
/// The audits file over <c>/api/v1/vettings/</c>: <c>GET export?since=</c> writes the vettings in force
/// (docs/audits-format.md) and <c>POST import?dryRun=&amp;criteria=&amp;projects=</c> vets each release of a file
/// through <see cref="ReleaseVetting"/>, pinned to the file's sha256s, so an import is held to upstream's bytes like
/// any other vetting.
/// </summary>
public static class VettingsApi
{
    public const int MaxProjectsFilter = 1000;

    public static void MapVettingsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/vettings/export", Export).RequireAuthorization(AccessPolicies.View);
        // An admin's action: an import is not held by the cooldown, so a reviewer could otherwise use a hand-made file to
        // vet inside it, which only an admin's break-glass may do.
        api.MapPost("/vettings/import", ImportAsync).RequireAuthorization(AccessPolicies.Administer);
    }

    private static IResult Export(string? since, CurationStore curations, IOptions<ServerOptions> server, TimeProvider clock, ILoggerFactory loggers)
    {
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                return Problem("since must be a date (2026-11-01) or an RFC 3339 date-time");
            }

            from = parsed;
        }

        var now = clock.GetUtcNow();
        if (from > now)
        {
            return Problem("since is in the future");
        }

        var vettings = new List<AuditsVetting>();
        foreach (var verdict in curations.Current.Vettings.ByProject.Values.SelectMany(r => r.Values)
                     .Where(v => v.Vetted && (from is null || v.DecidedAt >= from.Value.UtcDateTime))
                     .OrderBy(v => v.Project, StringComparer.Ordinal)
                     .ThenBy(v => Pep440Version.Parse(v.Version)))
        {
            // The format requires a size for every file; a pin made from a page that gave none cannot be exported faithfully.
            if (verdict.Files.Values.Any(f => f.Size <= 0))
            {
                VettingsLog.ExportSkipped(loggers.CreateLogger(typeof(VettingsApi)), verdict.Project, verdict.Version, "a pinned file has no recorded size");
                continue;
            }

            vettings.Add(new AuditsVetting(
                verdict.Project,
                verdict.Version,
                verdict.Criteria!,
                verdict.Files.Values.OrderBy(f => f.Filename, StringComparer.Ordinal).Select(f => new AuditsFileEntry(f.Filename, f.Sha256.ToLowerInvariant(), f.Size)).ToList(),
                verdict.Actor,
                new DateTimeOffset(DateTime.SpecifyKind(verdict.DecidedAt, DateTimeKind.Utc)),
                verdict.How,
                verdict.Reason,
                verdict.BreakGlass,
                verdict.How == VettingHow.Import ? verdict.Source ?? "unknown" : null));
        }

        var file = AuditsFile.Create(server.Value.Organization, now, vettings, from);
        return Results.Bytes(file.Serialize(), "application/json");
    }

    private static async Task<IResult> ImportAsync(
        HttpRequest http,
        bool? dryRun,
        string? criteria,
        string? projects,
        ClaimsPrincipal user,
        ReleaseVetting vetting,
        CurationStore curations,
        CancellationToken cancellationToken)
    {
        if (criteria is not null && !VettingCriteria.IsKnown(criteria))
        {
            return Problem($"criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}");
        }

        HashSet<string>? only = null;
        if (projects is not null)
        {
            var names = projects.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0 || names.Length > MaxProjectsFilter || names.FirstOrDefault(n => !ProjectName.IsValid(n)) is { } bad)
            {
                return Problem(names.Length > MaxProjectsFilter ? $"at most {MaxProjectsFilter} projects" : "projects must be a comma-separated list of project names");
            }

            only = names.Select(ProjectName.Normalize).ToHashSet(StringComparer.Ordinal);
        }

        var body = await ReadBodyAsync(http, cancellationToken);
        if (body is null)
        {
            return Problem($"the audits file is larger than {AuditsFile.MaxBytes} bytes");
        }

        var read = AuditsFile.Read(body);
        if (read.File is not { } file)
        {
            return Results.BadRequest(new { message = $"the audits file is refused: {read.Errors[0]}", errors = read.Errors });
        }

        var actor = user.Identity!.Name!;
        var results = new List<object>();
        var chosen = Choose(file, criteria, only);
        var approved = curations.Current.ApprovedProjects().ToHashSet(StringComparer.Ordinal);
        foreach (var (entry, recordAs) in chosen)
        {
            var (outcome, message) = await ImportOneAsync(file, entry, recordAs, actor, dryRun ?? false, vetting, curations.Current, cancellationToken);
            if ((outcome is ImportOutcome.Vetted or ImportOutcome.WouldVet) && !approved.Contains(entry.Project))
            {
                // Vettings cover releases; whether a project is shown at all is this organization's approval.
                message += $"; '{entry.Project}' is not approved here: tiers 2 and 3 show it once it is";
            }

            results.Add(new { project = entry.Project, version = entry.Version, criteria = recordAs, outcome, message });
        }

        return Results.Ok(new
        {
            organization = file.Organization,
            dryRun = dryRun ?? false,
            considered = chosen.Count,
            filteredOut = file.Vettings.Count - chosen.Count,
            results,
        });
    }

    /// <summary>
    /// The entries to import, one per release, with the criteria to record: <c>--criteria</c> keeps the vettings that
    /// satisfy it and records them with it (trusting another organization no further than asked); without it, each
    /// release's strongest vetting as written. Pure.
    /// </summary>
    public static IReadOnlyList<(AuditsVetting Entry, string Criteria)> Choose(AuditsFile file, string? criteria, IReadOnlySet<string>? projects)
    {
        var chosen = new List<(AuditsVetting, string)>();
        foreach (var release in file.Vettings
                     .Where(v => projects is null || projects.Contains(v.Project))
                     .Where(v => criteria is null || VettingCriteria.Satisfies(v.Criteria, criteria))
                     .GroupBy(v => (v.Project, Version: ReleaseVettings.NormalizeVersion(v.Version)!)))
        {
            var strongest = release.FirstOrDefault(v => v.Criteria == VettingCriteria.SafeToDeploy) ?? release.First();
            chosen.Add((strongest, criteria ?? strongest.Criteria));
        }

        return chosen;
    }

    private static async Task<(string Outcome, string Message)> ImportOneAsync(
        AuditsFile file, AuditsVetting entry, string criteria, string actor, bool dryRun, ReleaseVetting vetting, Curation curation, CancellationToken cancellationToken)
    {
        switch (curation.Vettings.For(entry.Project, entry.Version))
        {
            case { Vetted: false } rejected:
                return (ImportOutcome.Skipped, $"{entry.Project} {entry.Version} was {rejected.Describe()} here; an import does not override a rejection");
            case { Vetted: true } vetted when entry.Files.All(f => vetted.Files.TryGetValue(f.Filename, out var pin) && string.Equals(pin.Sha256, f.Sha256, StringComparison.OrdinalIgnoreCase)):
                return (ImportOutcome.Skipped, $"{entry.Project} {entry.Version} is already {vetted.Describe()}");
            case { Vetted: true } vetted:
                // Never replaces a vetting in force (it could drop files a reviewer here pinned, or pin other bytes).
                var differing = entry.Files.First(f => !vetted.Files.TryGetValue(f.Filename, out var pin) || !string.Equals(pin.Sha256, f.Sha256, StringComparison.OrdinalIgnoreCase));
                return (ImportOutcome.Refused, $"{entry.Project} {entry.Version} is {vetted.Describe()} here, and '{differing.Filename}' with sha256 {differing.Sha256} is not among its pins; an import never replaces a vetting in force");
        }

        // A re-export keeps where a vetting came from; a vetting made by the exporter comes from the exporter.
        var source = entry.How == VettingHow.Import && entry.Source is not null ? entry.Source : file.Organization;
        var request = new VetRequest(
            entry.Project,
            entry.Version,
            criteria,
            Reason(file, entry, source),
            actor,
            VettingHow.Import,
            entry.Files.Select(f => f.Filename).ToList(),
            entry.Files.ToDictionary(f => f.Filename, f => f.Sha256, StringComparer.Ordinal),
            Source: source,
            DryRun: dryRun);
        var outcome = await vetting.VetAsync(request, cancellationToken);
        return outcome.Status switch
        {
            VetStatus.Vetted => (dryRun ? ImportOutcome.WouldVet : ImportOutcome.Vetted, outcome.Message),
            VetStatus.NotNow => (ImportOutcome.Waiting, outcome.Message),
            _ => (ImportOutcome.Refused, outcome.Message),
        };
    }

    // The audit trail of an imported vetting says whose review it carries: organization, reviewer, date and their notes.
    private static string Reason(AuditsFile file, AuditsVetting entry, string source)
    {
        var via = source == file.Organization ? "" : $" via {file.Organization}";
        var reason = $"imported from {source}{via}: vetted {entry.Criteria} by {entry.How} {entry.Who} on {entry.When.UtcDateTime:yyyy-MM-dd}"
            + (string.IsNullOrWhiteSpace(entry.Notes) ? "" : $": {entry.Notes.Trim()}");
        return reason.Length <= Review.ReviewQueue.MaxReasonLength ? reason : reason[..(Review.ReviewQueue.MaxReasonLength - 1)] + "…";
    }

    // The whole document, or null when it is over the format's limit.
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        if (http.ContentLength > AuditsFile.MaxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await http.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > AuditsFile.MaxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static IResult Problem(string message) => Results.BadRequest(new { message });
}

internal static partial class VettingsLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Audits export leaves out {Project} {Version}: {Reason}")]
    public static partial void ExportSkipped(ILogger logger, string project, string version, string reason);
}
