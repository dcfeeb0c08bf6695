using System.Net;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 6: <c>X-Forwarded-Host</c>/<c>-Proto</c>/<c>-For</c> are believed only from <c>Server:KnownProxies</c> /
/// <c>Server:KnownNetworks</c>. The tests' requests come from 127.0.0.1; the UI's sign-in redirect is absolute, so its
/// Location shows which scheme and host the request was taken to have.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task ForwardedHeaders_FromPeerNotListed_AreIgnored()
    {
        // A proxy list that does not name loopback: the test's own address is an ordinary client.
        var location = await LoginRedirectAsync(new Dictionary<string, string> { ["Server:KnownProxies:0"] = "10.20.30.40" });

        Assert.Equal("http", location.Scheme);
        Assert.Equal("127.0.0.1", location.Host);
    }

    [Fact]
    public async Task ForwardedHeaders_FromNetworkNotListed_AreIgnored()
    {
        var location = await LoginRedirectAsync(new Dictionary<string, string> { ["Server:KnownNetworks:0"] = "10.0.0.0/8" });

        Assert.Equal("127.0.0.1", location.Host);
    }

    [Fact]
    public async Task ForwardedHeaders_FromListedProxy_AreHonored()
    {
        var location = await LoginRedirectAsync(new Dictionary<string, string> { ["Server:KnownProxies:0"] = "10.20.30.40", ["Server:KnownProxies:1"] = "127.0.0.1" });

        Assert.Equal("https", location.Scheme);
        Assert.Equal("index.example.org", location.Host);
    }

    [Fact]
    public async Task ForwardedHeaders_FromListedNetwork_AreHonored()
    {
        var location = await LoginRedirectAsync(new Dictionary<string, string> { ["Server:KnownNetworks:0"] = "127.0.0.0/8" });

        Assert.Equal("index.example.org", location.Host);
    }

    [Fact]
    public async Task ForwardedHeaders_WithNoProxiesConfigured_TrustLoopbackOnly()
    {
        // The documented default: a reverse proxy on the same machine works without configuration.
        var location = await LoginRedirectAsync(new Dictionary<string, string>());

        Assert.Equal("index.example.org", location.Host);
    }

    [Fact]
    public async Task KnownProxies_NotAnAddress_StopsStartup()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() =>
            ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Server:KnownProxies:0"] = "proxy.example" }));

        Assert.Contains("Server:KnownProxies: 'proxy.example' is not an IP address", e.Message, StringComparison.Ordinal);
    }

    private static async Task<Uri> LoginRedirectAsync(Dictionary<string, string> settings)
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: settings);
        using var request = new HttpRequestMessage(HttpMethod.Get, "ui/queue");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "index.example.org");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.True(location.IsAbsoluteUri, $"expected an absolute sign-in redirect, got {location}");
        Assert.StartsWith("/ui/login?ReturnUrl=", location.PathAndQuery, StringComparison.Ordinal);
        return location;
    }
}
