using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Hosting;

public static class ForwardedHeadersSetup
{
    /// <summary>
    /// The <c>Server</c> options, and forwarded headers believed only from the configured proxies (see
    /// <see cref="ServerOptions.KnownProxies"/>).
    /// </summary>
    public static void AddServerOptions(this IServiceCollection services)
    {
        services.AddValidatedOptions<ServerOptions>(ServerOptions.Section);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ServerOptions>>((o, server) => Apply(o, server.Value));
    }

    internal static void Apply(ForwardedHeadersOptions options, ServerOptions server)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        if (server.KnownProxies.Count == 0 && server.KnownNetworks.Count == 0)
        {
            // ASP.NET Core's defaults stand: 127.0.0.0/8 and ::1.
            return;
        }

        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var proxy in server.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy.Trim()));
        }

        foreach (var network in server.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network.Trim()));
        }
    }
}
