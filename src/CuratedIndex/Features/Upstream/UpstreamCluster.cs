using System.Globalization;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;

namespace CuratedIndex.Features.Upstream;

/// <summary>
/// The upstream as a YARP cluster named <see cref="ClusterId"/>: its destinations come from
/// <c>Upstream:Url</c> and <c>Upstream:Mirrors</c>, its health checks and HTTP settings from <c>config/reverseproxy.json</c>.
/// </summary>
public sealed class UpstreamCluster(IProxyStateLookup proxyState, IOptions<UpstreamOptions> options)
{
    public const string ClusterId = "upstream";

    /// <summary>Adds the destinations to configuration before YARP reads it.</summary>
    public static void AddDestinations(IConfigurationManager configuration)
    {
        var upstream = configuration.GetSection(UpstreamOptions.Section).Get<UpstreamOptions>() ?? new UpstreamOptions();
        var values = new Dictionary<string, string?>();
        var index = 0;
        foreach (var destination in upstream.Destinations())
        {
            values[$"ReverseProxy:Clusters:{ClusterId}:Destinations:d{index.ToString(CultureInfo.InvariantCulture)}:Address"] = destination.ToString();
            index++;
        }

        configuration.AddInMemoryCollection(values);
    }

    /// <summary>The destinations to try, healthy ones first, in configuration order.</summary>
    public IReadOnlyList<Uri> DestinationsInOrder()
    {
        var configured = options.Value.Destinations().ToList();
        if (!proxyState.TryGetCluster(ClusterId, out var cluster))
        {
            return configured;
        }

        var healthy = cluster.DestinationsState.AvailableDestinations
            .Select(d => d.Model.Config.Address)
            .ToHashSet(StringComparer.Ordinal);
        return configured.OrderBy(d => healthy.Contains(d.ToString()) ? 0 : 1).ToList();
    }
}
