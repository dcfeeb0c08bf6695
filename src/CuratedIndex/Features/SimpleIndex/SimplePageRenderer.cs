using System.Buffers;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Protocol;

using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// Turns an upstream page into what one environment may see: every file passes the decision function,
/// file URLs point at the proxy, and a hidden project becomes a PEP 792 quarantined page (PROTOCOL.md H2).
/// Rendered bytes are kept in the <see cref="RenderCache"/> until the upstream page or the curation changes.
/// </summary>
public sealed class SimplePageRenderer(RenderCache cache)
{
    /// <summary>The page as <paramref name="environment"/> sees it; <paramref name="signals"/> are the caller's (one typosquat check per request).</summary>
    public async ValueTask<RenderedPage> RenderAsync(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, CachedProject project, long stamp, SimpleFormat format, ProxyUrls urls) =>
        (await cache.GetOrRenderAsync(
            new RenderKey("simple", environment.Name, project.Page.Name, format == SimpleFormat.Json ? "json" : "html"),
            stamp,
            curation,
            () => Write(Filter(environment, curation, signals, project.Page), format, urls, environment.Name, compress: true)))!;

    /// <summary>
    /// The page a client gets for a project it may not see: no files, status quarantined, the reason. Rendered per request
    /// (the reason names the review request), so it has no gzip copy: compressing on the request path is what the cached
    /// copies avoid, and a page this small gains nothing from it.
    /// </summary>
    public static RenderedPage RenderBlocked(string project, Decision decision, SimpleFormat format, ProxyUrls urls, string environment)
    {
        var page = new ProjectPage
        {
            Name = project,
            ApiVersion = "1.4",
            Status = new ProjectStatus(ProjectStatus.Quarantined, decision.Reason),
        };
        return Write(page, format, urls, environment, compress: false);
    }

    /// <summary>Applies the decision function to every file and rebuilds <c>versions</c> to match (PROTOCOL.md M1).</summary>
    public static ProjectPage Filter(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, ProjectPage page)
    {
        var facts = new UpstreamFacts(page.Status?.Status);
        var projectDecision = curation.Decide(environment, new DecisionSubject(page.Name), facts, signals);
        if (!projectDecision.Visible)
        {
            return page with
            {
                Files = [],
                Versions = [],
                Status = new ProjectStatus(ProjectStatus.Quarantined, projectDecision.Reason),
            };
        }

        var kept = new List<DistributionFile>(page.Files.Count);
        foreach (var file in page.Files)
        {
            var version = VersionOf(page.Name, file.Filename);
            if (curation.Decide(environment, new DecisionSubject(page.Name, version, file.Filename), facts.ForListedFile(file.Sha256), signals).Visible)
            {
                // Tier 3 offers PEP 658 metadata only with the digest pinned at vetting; without it pip reads the pinned wheel.
                var unpinnedMetadata = environment.Tier == Tier.Vetted && file.CoreMetadata is not null
                    && !curation.Vettings.MetadataIsPinned(page.Name, version, file.Filename, file.CoreMetadata.GetValueOrDefault("sha256"));
                kept.Add(unpinnedMetadata ? file with { CoreMetadata = null } : file);
            }
        }

        if (environment.Tier == Tier.Vetted)
        {
            AddPinnedFilesUpstreamDropped(environment, curation, signals, page, facts, kept);
        }

        return page with { Files = kept, Versions = RebuildVersions(page, kept) };
    }

    /// <summary>
    /// Tier 3 keeps installing what was vetted when upstream deletes it: a pinned file upstream no longer lists is listed
    /// from its pin (name, sha256, size) and served from the artifact store.
    /// </summary>
    private static void AddPinnedFilesUpstreamDropped(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, ProjectPage page, UpstreamFacts facts, List<DistributionFile> kept)
    {
        var releases = curation.Vettings.Of(page.Name);
        if (releases.Count == 0)
        {
            return;
        }

        HashSet<string>? listed = null;
        foreach (var release in releases.Values)
        {
            if (!release.Vetted)
            {
                continue;
            }

            foreach (var pinned in release.Files.Values)
            {
                listed ??= page.Files.Select(f => f.Filename).ToHashSet(StringComparer.Ordinal);
                if (listed.Contains(pinned.Filename)
                    || !curation.Decide(environment, new DecisionSubject(page.Name, release.Version, pinned.Filename), facts with { FileSha256 = pinned.Sha256 }, signals).Visible)
                {
                    continue;
                }

                kept.Add(PinnedEntry(pinned));
            }
        }
    }

    /// <summary>A listing for a pinned file built from its pin alone; its bytes come from the artifact store.</summary>
    public static DistributionFile PinnedEntry(Releases.PinnedFile pinned) => new()
    {
        Filename = pinned.Filename,
        Url = "",
        Hashes = new Dictionary<string, string>(StringComparer.Ordinal) { ["sha256"] = pinned.Sha256 },
        Size = pinned.Size,
    };

    public static string? VersionOf(string project, string filename) =>
        DistributionFilename.TryParse(filename, project, out var parsed) ? parsed.Version : null;

    private static List<string> RebuildVersions(ProjectPage page, List<DistributionFile> kept)
    {
        var fileVersions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in kept)
        {
            var version = VersionOf(page.Name, file.Filename);
            if (version is not null)
            {
                fileVersions.TryAdd(Canonical(version), version);
            }
        }

        var versions = new List<string>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var allKept = kept.Count == page.Files.Count;
        foreach (var version in page.Versions)
        {
            // Upstream may list versions without files; keep them only while nothing was filtered out.
            var canonical = Canonical(version);
            if ((allKept || fileVersions.ContainsKey(canonical)) && listed.Add(canonical))
            {
                versions.Add(version);
            }
        }

        foreach (var (canonical, version) in fileVersions)
        {
            if (listed.Add(canonical))
            {
                versions.Add(version);
            }
        }

        return versions;
    }

    private static string Canonical(string version) =>
        Pep440Version.TryParse(version, out var parsed) ? parsed.ToString() : version;

    private static RenderedPage Write(ProjectPage page, SimpleFormat format, ProxyUrls urls, string environment, bool compress)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        Func<DistributionFile, string> fileUrl = file => urls.File(environment, page.Name, file.Filename);
        Func<DistributionFile, string?> provenanceUrl = file =>
            file.Provenance is null || VersionOf(page.Name, file.Filename) is not { } version
                ? null
                : urls.Provenance(environment, page.Name, version, file.Filename);
        if (format == SimpleFormat.Json)
        {
            SimpleJsonWriter.WriteProject(buffer, page, fileUrl, provenanceUrl);
        }
        else
        {
            SimpleHtmlWriter.WriteProject(buffer, page, fileUrl, provenanceUrl);
        }

        return new RenderedPage(buffer.WrittenSpan.ToArray(), page.LastSerial, compress);
    }
}
