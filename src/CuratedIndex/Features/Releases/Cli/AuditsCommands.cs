using System.Globalization;
using System.Net;

namespace CuratedIndex.Features.Releases.Cli;

/// <summary>
/// <c>curated-index audits export [--since DATE]</c> writes the server's vettings as an audits file (docs/audits-format.md)
/// to standard output; <c>audits import FILE</c> sends one to the server, which vets each release through the same checks
/// as a reviewer's vetting, pinned to the file's sha256s. Exit 1 when the import refused an entry, 2 when it could not run.
/// </summary>
public static class AuditsCommands
{
    public static async Task<int> ExportAsync(ServerClient client, string? since, Stream output, CancellationToken cancellationToken)
    {
        var query = "";
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                throw new ServerClientException($"--since '{since}' is not a date (2026-11-01) or an RFC 3339 date-time");
            }

            query = "?since=" + Uri.EscapeDataString(parsed.ToString("O", CultureInfo.InvariantCulture));
        }

        var answer = await client.GetAsync("vettings/export" + query, cancellationToken);
        if (!answer.Ok)
        {
            throw new ServerClientException($"export refused: {answer.Message}");
        }

        // What the server wrote must be a valid audits file: nothing else reaches the output.
        var read = AuditsFile.Read(answer.Body);
        if (!read.IsValid)
        {
            throw new ServerClientException($"the server's export is not a valid audits file: {read.Errors[0]}");
        }

        await output.WriteAsync(answer.Body, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return 0;
    }

    public static async Task<int> ImportAsync(
        ServerClient client, string file, string? criteria, string? projects, bool dryRun, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (criteria is not null && !VettingCriteria.IsKnown(criteria))
        {
            throw new ServerClientException($"--criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}");
        }

        byte[] body;
        try
        {
            var info = new FileInfo(file);
            if (info.Exists && info.Length > AuditsFile.MaxBytes)
            {
                throw new ServerClientException($"{file}: {info.Length} bytes is over the {AuditsFile.MaxBytes} byte limit");
            }

            body = await File.ReadAllBytesAsync(file, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerClientException($"{file}: cannot read it: {e.Message}");
        }

        // Refused here first, every problem listed, so a bad file never reaches the server.
        var read = AuditsFile.Read(body);
        if (!read.IsValid)
        {
            foreach (var problem in read.Errors)
            {
                await error.WriteLineAsync($"error: {file}: {problem}");
            }

            return 2;
        }

        var query = new List<string>();
        if (dryRun)
        {
            query.Add("dryRun=true");
        }

        if (criteria is not null)
        {
            query.Add("criteria=" + Uri.EscapeDataString(criteria));
        }

        if (projects is not null)
        {
            query.Add("projects=" + Uri.EscapeDataString(projects));
        }

        var answer = await client.PostBytesAsync("vettings/import" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), body, cancellationToken);
        if (answer.Status != HttpStatusCode.OK)
        {
            throw new ServerClientException($"import refused: {answer.Message}");
        }

        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var result in answer.Json!["results"]!.AsArray())
        {
            var outcome = result!["outcome"]!.GetValue<string>();
            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
            await output.WriteLineAsync($"{result["project"]!.GetValue<string>()} {result["version"]!.GetValue<string>()}: {outcome}: {result["message"]!.GetValue<string>()}");
        }

        var filtered = answer.Json["filteredOut"]!.GetValue<int>();
        string Count(string outcome) => $"{counts.GetValueOrDefault(outcome)} {outcome}";
        var done = dryRun ? Count(ImportOutcome.WouldVet) : Count(ImportOutcome.Vetted);
        await output.WriteLineAsync(
            $"{(dryRun ? "dry run, nothing changed: " : "")}import from {answer.Json["organization"]!.GetValue<string>()}: {done}, {Count(ImportOutcome.Skipped)}, "
            + $"{Count(ImportOutcome.Refused)}, {Count(ImportOutcome.Waiting)} for cooldown; {filtered} left out by --criteria/--projects");
        return counts.GetValueOrDefault(ImportOutcome.Refused) > 0 ? 1 : 0;
    }
}
