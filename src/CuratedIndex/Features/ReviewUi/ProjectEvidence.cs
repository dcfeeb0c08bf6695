using System.Globalization;
using System.Text.Json;
using CuratedIndex.Features.JsonApi;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// A link as upstream states it. <see cref="Href"/> is set only for absolute http(s) URLs: anything else
/// (<c>javascript:</c>, <c>data:</c>, relative, malformed) is shown as text and never becomes a link.
/// </summary>
public sealed record UpstreamLink(string Label, string Text, string? Href)
{
    public static UpstreamLink From(string label, string url)
    {
        var href = Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri.AbsoluteUri
            : null;
        return new UpstreamLink(EvidenceReader.Clip(label, 200), EvidenceReader.Clip(url, 1000), href);
    }
}

/// <summary>A person as upstream names them (author or maintainer); either part may be missing.</summary>
public sealed record UpstreamPerson(string Role, string? Name, string? Email);

/// <summary>
/// What a reviewer reads about a project, as upstream states it. Every string is untrusted and is rendered
/// with Razor's encoding. <see cref="Notes"/> says what could not be fetched (upstream down, not upstream).
/// </summary>
public sealed record ProjectEvidence(
    string Project,
    bool FoundUpstream,
    string? UpstreamName,
    string? Summary,
    string? LatestVersion,
    IReadOnlyList<UpstreamLink> Links,
    IReadOnlyList<UpstreamPerson> People,
    DateTimeOffset? FirstRelease,
    int? ReleaseCount,
    string? UpstreamStatus,
    string? UpstreamStatusReason,
    int? PopularityRank,
    int RankedProjects,
    IReadOnlyList<TyposquatFinding> Typosquats,
    IReadOnlyList<string> Notes);

/// <summary>
/// Gathers a project's evidence from the upstream caches (JSON API document and simple page), the popularity
/// corpus and the typosquat findings. Never throws for upstream trouble: it becomes a note on the page.
/// </summary>
public sealed class EvidenceReader(JsonApiCache jsonApi, ProjectPageCache pages, PopularityRanks ranks, TyposquatFindings typosquats, ILogger<EvidenceReader> logger)
{
    public async Task<ProjectEvidence> ReadAsync(string project, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var jsonTask = Fetch(() => jsonApi.GetAsync(project, cancellationToken));
        var pageTask = Fetch(() => pages.GetAsync(project, cancellationToken));
        var json = await jsonTask;
        var page = await pageTask;

        var info = new Info();
        if (json is { Status: LookupStatus.Found, Value: { } document })
        {
            info = ReadJson(document.Body, notes);
        }

        var found = json?.Status == LookupStatus.Found || page?.Status == LookupStatus.Found;
        if (json?.Status == LookupStatus.NotFound && page?.Status == LookupStatus.NotFound)
        {
            notes.Add($"'{project}' does not exist upstream.");
        }
        else
        {
            if (json is null || json.Status == LookupStatus.Failed)
            {
                notes.Add($"Upstream's JSON API could not be read ({json?.Reason ?? "an unexpected error"}): summary, links and maintainers are missing.");
            }

            if (page is null || page.Status == LookupStatus.Failed)
            {
                notes.Add($"Upstream's project page could not be read ({page?.Reason ?? "an unexpected error"}): release dates may be incomplete.");
            }
        }

        DateTimeOffset? firstRelease = info.FirstUpload;
        string? status = null;
        string? statusReason = null;
        int? releaseCount = info.ReleaseCount;
        if (page is { Status: LookupStatus.Found, Value: { } cached })
        {
            foreach (var file in cached.Page.Files)
            {
                if (ParseTime(file.UploadTime) is { } uploaded && (firstRelease is null || uploaded < firstRelease))
                {
                    firstRelease = uploaded;
                }
            }

            releaseCount ??= cached.Page.Versions.Count > 0 ? cached.Page.Versions.Count : null;
            status = cached.Page.Status?.Status;
            statusReason = cached.Page.Status?.Reason;
        }

        IReadOnlyList<TyposquatFinding> findings;
        try
        {
            findings = typosquats.ForProject(project);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ReviewUiLog.EvidenceFailed(logger, project, e);
            notes.Add("The typosquat check failed; its findings are missing.");
            findings = [];
        }

        if (findings.Count > 0 && json is { Status: LookupStatus.Found })
        {
            findings = await CompareWithImitatedAsync(info, findings);
        }

        return new ProjectEvidence(
            project,
            found,
            info.Name,
            info.Summary,
            info.Version,
            info.Links,
            info.People,
            firstRelease,
            releaseCount,
            status,
            statusReason,
            ranks.RankOf(project),
            ranks.Count,
            findings,
            notes);

        // A lookalike that copies the imitated project's summary or points at its repository ("starjacking") is the
        // evidence a name alone cannot give: legitimate siblings describe themselves and link to their own code.
        async Task<IReadOnlyList<TyposquatFinding>> CompareWithImitatedAsync(Info candidate, IReadOnlyList<TyposquatFinding> found)
        {
            var compared = new List<TyposquatFinding>(found.Count);
            foreach (var finding in found)
            {
                // An internal name's public document, if any, is someone else's project: nothing to compare with.
                if (compared.Count >= MaxComparedFindings || finding.SimilarToInternal
                    || await Fetch(() => jsonApi.GetAsync(finding.SimilarTo, cancellationToken)) is not { Status: LookupStatus.Found, Value: { } imitatedDocument })
                {
                    compared.Add(finding);
                    continue;
                }

                var imitated = ReadJson(imitatedDocument.Body, []);
                compared.Add(finding with { Copied = Shared(candidate, imitated, finding.SimilarTo) });
            }

            return compared;
        }

        async Task<DocumentLookup<T>?> Fetch<T>(Func<Task<DocumentLookup<T>>> get)
            where T : class
        {
            try
            {
                return await get();
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Evidence is best effort: a failure is a note on the page, never a 500.
                ReviewUiLog.EvidenceFailed(logger, project, e);
                return null;
            }
        }
    }

    // Each comparison reads one more JSON API document (cached like any other); the page shows the first few findings' comparisons.
    private const int MaxComparedFindings = 3;

    // Hosts whose bare address says nothing about which project a link belongs to.
    private static readonly HashSet<string> SharedHosts = new(StringComparer.Ordinal) { "github.com", "gitlab.com", "bitbucket.org", "pypi.org", "python.org" };

    /// <summary>What the candidate's metadata shares with the imitated project's: the same summary, links to the same pages.</summary>
    private static List<string> Shared(Info candidate, Info imitated, string imitatedName)
    {
        var shared = new List<string>();
        if (candidate.Summary is { } summary && imitated.Summary is { } original && Collapse(summary) == Collapse(original))
        {
            shared.Add($"the same summary as '{imitatedName}': \"{summary}\"");
        }

        var imitatedLinks = imitated.Links.Select(LinkKey).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var link in candidate.Links.DistinctBy(LinkKey))
        {
            if (LinkKey(link) is { } key && imitatedLinks.Contains(key))
            {
                shared.Add($"its link '{link.Label}' ({link.Text}) is also a link of '{imitatedName}'");
            }
        }

        return shared;
    }

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    // Host without "www." plus path without a trailing "/" or ".git", lower-cased: "https://GitHub.com/a/b.git" and
    // "http://github.com/a/b/" are one repository. Links to a bare shared host are not compared.
    private static string? LinkKey(UpstreamLink link)
    {
        if (link.Href is null || !Uri.TryCreate(link.Href, UriKind.Absolute, out var uri))
        {
            return null;
        }

        var host = uri.Host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? uri.Host[4..] : uri.Host;
        var path = uri.AbsolutePath.TrimEnd('/');
        path = path.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? path[..^4] : path;
        host = host.ToLowerInvariant();
        return path.Length == 0 && SharedHosts.Contains(host) ? null : (host + path).ToLowerInvariant();
    }

    internal static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static Info ReadJson(byte[] body, List<string> notes)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var info = root.GetProperty("info");
            var links = new List<UpstreamLink>();
            if (Text(info, "home_page") is { } home)
            {
                links.Add(UpstreamLink.From("Home page", home));
            }

            if (info.TryGetProperty("project_urls", out var urls) && urls.ValueKind == JsonValueKind.Object)
            {
                foreach (var url in urls.EnumerateObject().Take(30))
                {
                    if (url.Value.ValueKind == JsonValueKind.String && url.Value.GetString() is { Length: > 0 } value)
                    {
                        links.Add(UpstreamLink.From(url.Name, value));
                    }
                }
            }

            var people = new List<UpstreamPerson>();
            foreach (var (role, name, email) in new[] { ("author", "author", "author_email"), ("maintainer", "maintainer", "maintainer_email") })
            {
                var person = new UpstreamPerson(role, Text(info, name), Text(info, email));
                if (person.Name is not null || person.Email is not null)
                {
                    people.Add(person);
                }
            }

            int? releaseCount = null;
            DateTimeOffset? firstUpload = null;
            if (root.TryGetProperty("releases", out var releases) && releases.ValueKind == JsonValueKind.Object)
            {
                releaseCount = 0;
                foreach (var release in releases.EnumerateObject())
                {
                    if (release.Value.ValueKind != JsonValueKind.Array || release.Value.GetArrayLength() == 0)
                    {
                        continue; // a version without files was never installable
                    }

                    releaseCount++;
                    foreach (var file in release.Value.EnumerateArray())
                    {
                        if (file.ValueKind == JsonValueKind.Object
                            && ParseTime(Text(file, "upload_time_iso_8601") ?? Text(file, "upload_time")) is { } uploaded
                            && (firstUpload is null || uploaded < firstUpload))
                        {
                            firstUpload = uploaded;
                        }
                    }
                }
            }

            return new Info(Text(info, "name"), Text(info, "summary"), Text(info, "version"), links, people, releaseCount, firstUpload);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            notes.Add("Upstream's JSON API document has an unexpected shape; summary, links and maintainers are missing.");
            return new Info();
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { } text && !string.IsNullOrWhiteSpace(text) && text != "UNKNOWN"
            ? Clip(text.Trim(), 1000)
            : null;

    private static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private sealed record Info(
        string? Name = null,
        string? Summary = null,
        string? Version = null,
        IReadOnlyList<UpstreamLink>? LinkList = null,
        IReadOnlyList<UpstreamPerson>? PeopleList = null,
        int? ReleaseCount = null,
        DateTimeOffset? FirstUpload = null)
    {
        public IReadOnlyList<UpstreamLink> Links => LinkList ?? [];

        public IReadOnlyList<UpstreamPerson> People => PeopleList ?? [];
    }
}
