using CuratedIndex.Hosting;
namespace CuratedIndex.Features.Upstream;

public static class UpstreamRegistration
{
    /// <summary>
    /// The upstream as a YARP cluster (destinations from <c>Upstream:Url</c>/<c>Mirrors</c>, health checks from
    /// config/reverseproxy.json), the forwarder that downloads through it, the page client and the file host guard.
    /// </summary>
    public static void AddUpstream(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<UpstreamOptions>(UpstreamOptions.Section);
        UpstreamCluster.AddDestinations(builder.Configuration);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<UpstreamCluster>();
        builder.Services.AddSingleton<FileHostGuard>();
        UpstreamPageClient.Configure(builder.Services);
    }

    /// <summary>YARP's proxy state (health checks of the upstream cluster) lives in the proxy pipeline; no routes are configured.</summary>
    public static void MapUpstream(this WebApplication app) => app.MapReverseProxy();
}
