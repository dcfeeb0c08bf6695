using System.Diagnostics;
using CuratedIndex.Tests.Infrastructure;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>The browser harness itself: it reaches the server under test, nothing else, and leaves no process behind.</summary>
[Trait("Category", "EndToEnd")]
public sealed class HeadlessBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Browser_ReadsAPageAndTakesAScreenshot_AndDisposeEndsEveryProcessItStarted()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        string root;
        byte[] png;
        IReadOnlyList<HeadlessBrowser.ProcessTree.Started> started;
        var clock = Stopwatch.StartNew();
        using (var browser = HeadlessBrowser.Start())
        {
            output.WriteLine($"started {clock.Elapsed}");
            root = browser.Root;
            browser.GoTo(new Uri(proxy.BaseUrl, "dev/simple/six/"));
            browser.WaitForElement(By.LinkText("six-1.17.0-py2.py3-none-any.whl"));
            png = await File.ReadAllBytesAsync(browser.SaveScreenshot(Path.Combine(browser.Root, "dev-simple.png"))); // deleted with the browser
            output.WriteLine($"shot {clock.Elapsed}");

            // Every name but 127.0.0.1 fails to resolve inside the browser: no request leaves the machine.
            var refused = Assert.ThrowsAny<WebDriverException>(() => browser.GoTo(new Uri("http://pypi.invalid/simple/")));
            Assert.Contains("ERR_NAME_NOT_RESOLVED", refused.Message, StringComparison.Ordinal);

            started = HeadlessBrowser.ProcessTree.Snapshot(0, root);
            Assert.True(started.Count >= 2, "expected chromium's processes to be found by their profile directory");
            output.WriteLine($"before dispose {clock.Elapsed}");
        }

        output.WriteLine($"disposed {clock.Elapsed}");

        Assert.True(png.Length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "the screenshot is not a PNG");

        Assert.Empty(HeadlessBrowser.ProcessTree.Snapshot(0, root));
        Assert.All(started, p => Assert.False(File.Exists($"/proc/{p.Id}/stat") && File.ReadAllText($"/proc/{p.Id}/stat").Contains(p.StartTime, StringComparison.Ordinal), $"process {p.Id} survived"));
        Assert.False(Directory.Exists(root));
    }
}
