using System.Net;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Features;

public sealed class SmokeTests
{
    [Fact]
    public async Task SimplePageAndFile_ThroughProxy_AreServed()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var page = await proxy.Client.GetAsync("dev/simple/six/");
        var body = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("/dev/files/six/six-1.17.0-py2.py3-none-any.whl", body, StringComparison.Ordinal);
        var file = await proxy.Client.GetAsync("dev/files/six/six-1.17.0-py2.py3-none-any.whl");
        var bytes = await file.Content.ReadAsByteArrayAsync();
        Assert.True(file.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        Assert.Equal(upstream.File("six-1.17.0-py2.py3-none-any.whl").Content, bytes);
        var again = await proxy.Client.GetByteArrayAsync("dev/files/six/six-1.17.0-py2.py3-none-any.whl");
        Assert.Equal(bytes, again);
        Assert.Equal(1, upstream.HitsOn("/packages/six-1.17.0-py2.py3-none-any.whl"));
        var root = await proxy.Client.GetStringAsync("dev/simple/");
        Assert.Contains("/dev/simple/six/", root, StringComparison.Ordinal);
    }
}
