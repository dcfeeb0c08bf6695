using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// What a tier 3 page request sets off besides the page: the releases it shows are seen (cooldown and signals start), the
/// pins are checked against upstream's digests (an alert for a swapped file), and the newest release, when it is not vetted,
/// counts as demand: that is the release an unpinned <c>pip install</c> wanted.
/// </summary>
public sealed class Tier3Requests(ReleaseObserver observer, PinMismatchAlerts pins, ReleaseDemand demand)
{
    public async Task ObserveAsync(IndexRequest request, CachedProject project, long stamp, HttpContext context)
    {
        var page = project.Page;
        // Pins can only stop matching when upstream's page changes: checked once per page this node reads.
        if (await observer.ObserveAsync(page, stamp, context.RequestAborted))
        {
            await pins.CheckAsync(request.Curation.Vettings, request.Project, page.Files, context.RequestAborted);
        }

        if (project.NewestRelease is { } newest && request.Curation.Vettings.For(request.Project, newest) is null)
        {
            await demand.RecordAsync(request.Project, newest, request.Environment.Name, request.Caller, context.Connection.RemoteIpAddress, context.RequestAborted);
        }
    }

    /// <summary>The newest final release upstream lists files for (normalized), or null.</summary>
    public static string? NewestRelease(Protocol.SimpleApi.ProjectPage page)
    {
        Pep440Version? newest = null;
        foreach (var file in page.Files)
        {
            if (Pep440Version.TryParse(SimplePageRenderer.VersionOf(page.Name, file.Filename), out var version)
                && !version.IsPrerelease && !file.IsYanked && (newest is null || version > newest))
            {
                newest = version;
            }
        }

        return newest?.ToString();
    }
}
