using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Hosting;

/// <summary>
/// <c>Server:KnownProxies</c> and <c>Server:KnownNetworks</c>: the peers whose <c>X-Forwarded-For</c>, <c>-Proto</c> and
/// <c>-Host</c> are believed. When neither is set, only loopback is (ASP.NET Core's default: a reverse proxy on the same
/// machine); once either is set, exactly the listed addresses and networks are, loopback included only when listed.
/// </summary>
public sealed class TrustedProxyOptions : IValidatableObject
{
    public const string Section = "Server";

    /// <summary>IP addresses of reverse proxies, e.g. <c>10.0.0.5</c> or <c>::1</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of reverse proxies in CIDR form, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p.Trim(), out _)))
        {
            yield return new ValidationResult($"Server:KnownProxies: '{proxy}' is not an IP address", [nameof(KnownProxies)]);
        }

        foreach (var network in KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n.Trim(), out _)))
        {
            yield return new ValidationResult($"Server:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/24)", [nameof(KnownNetworks)]);
        }
    }
}

public static class ForwardedHeadersSetup
{
    /// <summary>Believes forwarded headers only from the configured proxies (see <see cref="TrustedProxyOptions"/>).</summary>
    public static void AddTrustedForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((o, trusted) => Apply(o, trusted.Value));
    }

    internal static void Apply(ForwardedHeadersOptions options, TrustedProxyOptions trusted)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        if (trusted.KnownProxies.Count == 0 && trusted.KnownNetworks.Count == 0)
        {
            // ASP.NET Core's defaults stand: 127.0.0.0/8 and ::1.
            return;
        }

        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var proxy in trusted.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy.Trim()));
        }

        foreach (var network in trusted.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network.Trim()));
        }
    }
}
