using System.Net;
using System.Text.RegularExpressions;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 11: sign-out ends the session on the server, cookies are <c>Secure</c> unless
/// <c>Auth:AllowInsecureCookies=true</c>, and sign-in throttling keys on the real client address behind known proxies.
/// </summary>
public sealed partial class SessionTests
{
    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [Fact]
    public async Task SignOut_ThenReplayingTheOldCookie_IsRefused()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var cookie = session.Cookies.GetCookies(proxy.BaseUrl)["curated-index-session"]!.Value;
        Assert.Equal(HttpStatusCode.OK, await StatusWithCookieAsync(proxy, cookie));

        using var signOut = await session.SubmitAsync("ui/logout", "#sign-out-form");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        // A copy of the cookie taken before sign-out (another tab, a stolen copy) no longer opens the UI.
        Assert.Equal(HttpStatusCode.Redirect, await StatusWithCookieAsync(proxy, cookie));
    }

    [Fact]
    public async Task SignOut_OldCookieReplayed_DoesNotEndTheNextSession()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var first = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var old = first.Cookies.GetCookies(proxy.BaseUrl)["curated-index-session"]!.Value;
        using (await first.SubmitAsync("ui/logout", "#sign-out-form"))
        {
        }

        using var second = new UiSession(proxy.BaseUrl);
        using (await second.SignInAsync("rita"))
        {
        }

        var current = second.Cookies.GetCookies(proxy.BaseUrl)["curated-index-session"]!.Value;
        Assert.Equal(HttpStatusCode.Redirect, await StatusWithCookieAsync(proxy, old));
        Assert.Equal(HttpStatusCode.OK, await StatusWithCookieAsync(proxy, current));
    }

    [Fact]
    public async Task SignOut_InOneBrowser_LeavesTheAccountsOtherSessionSignedIn()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var laptop = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        using var desktop = new UiSession(proxy.BaseUrl);
        using (await desktop.SignInAsync("rita"))
        {
        }

        using (await laptop.SubmitAsync("ui/logout", "#sign-out-form"))
        {
        }

        Assert.Equal(HttpStatusCode.Redirect, await StatusWithCookieAsync(proxy, laptop.Cookies.GetCookies(proxy.BaseUrl)["curated-index-session"]?.Value ?? ""));
        var (page, _, _) = await desktop.GetAsync("ui/queue");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Cookies_ByDefault_AreSecure()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Auth:AllowInsecureCookies"] = "false" });
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);

        // TLS ends at a proxy on the same machine (loopback is trusted when no proxies are configured).
        var setCookies = await SignInByHandAsync(proxy, forwardedProto: "https");

        Assert.Contains(setCookies, c => c.StartsWith("curated-index-antiforgery=", StringComparison.Ordinal));
        Assert.Contains(setCookies, c => c.StartsWith("curated-index-session=", StringComparison.Ordinal));
        Assert.All(setCookies, c => Assert.Contains("; secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SignIn_OverPlainHttpWithoutAllowInsecureCookies_SaysWhatToDo()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Auth:AllowInsecureCookies"] = "false" });

        using var page = await proxy.Client.GetAsync("ui/login");

        // No cookie ever leaves without Secure: the page is refused before antiforgery would set one.
        Assert.False(page.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal(UiTransportFilter.Refusal + "\n", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Cookies_WithAllowInsecureCookies_AreNotSecure()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Auth:AllowInsecureCookies"] = "true" });
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);

        var setCookies = await SignInByHandAsync(proxy);

        Assert.Contains(setCookies, c => c.StartsWith("curated-index-session=", StringComparison.Ordinal));
        Assert.All(setCookies, c => Assert.DoesNotContain("; secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SignInThrottle_SpoofedForwardedForFromUntrustedPeer_GetsNoFreshBucket()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Auth:SignInAttemptsPerMinute"] = "2",
            ["Server:KnownProxies:0"] = "10.20.30.40",
        });

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await AttemptsAsync(proxy, "203.0.113.1", "203.0.113.1", "203.0.113.2"));
    }

    [Fact]
    public async Task SignInThrottle_BehindKnownProxy_KeysOnTheForwardedClient()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Auth:SignInAttemptsPerMinute"] = "2",
            ["Server:KnownProxies:0"] = "127.0.0.1",
        });

        // Two clients behind the one proxy: each has its own bucket, and the first is still limited.
        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests],
            await AttemptsAsync(proxy, "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.1"));
    }

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void SignInThrottle_Bucket_IsTheAddressOrTheIPv6Slash64(string address, string bucket) =>
        Assert.Equal(bucket, SignInThrottle.BucketOf(IPAddress.Parse(address)));

    private static async Task<List<HttpStatusCode>> AttemptsAsync(ProxyInstance proxy, params string[] forwardedFor)
    {
        using var session = new UiSession(proxy.BaseUrl);
        var statuses = new List<HttpStatusCode>();
        foreach (var client in forwardedFor)
        {
            session.Client.DefaultRequestHeaders.Remove("X-Forwarded-For");
            session.Client.DefaultRequestHeaders.Add("X-Forwarded-For", client);
            using var response = await session.SignInAsync("nobody", "wrong password");
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    private static async Task<HttpStatusCode> StatusWithCookieAsync(ProxyInstance proxy, string sessionCookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "ui/queue");
        request.Headers.Add("Cookie", $"curated-index-session={sessionCookie}");
        using var response = await proxy.Client.SendAsync(request);
        return response.StatusCode;
    }

    // By hand, as a browser on a TLS connection would: a cookie jar would (rightly) not send Secure cookies over http.
    private static async Task<List<string>> SignInByHandAsync(ProxyInstance proxy, string? forwardedProto = null)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "ui/login");
        if (forwardedProto is not null)
        {
            get.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        using var page = await proxy.Client.SendAsync(get);
        var cookies = page.Headers.GetValues("Set-Cookie").ToList();
        var token = WebUtility.HtmlDecode(AntiforgeryField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value);
        using var post = new HttpRequestMessage(HttpMethod.Post, "ui/login")
        {
            Content = new FormUrlEncodedContent([new("UserName", "rita"), new("Password", UiSession.Password), new("__RequestVerificationToken", token)]),
        };
        if (forwardedProto is not null)
        {
            post.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        post.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => c.Split(';')[0])));
        using var response = await proxy.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        cookies.AddRange(response.Headers.GetValues("Set-Cookie"));
        return cookies;
    }
}
