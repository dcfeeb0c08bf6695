using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// The reviewer's path through the approval UI in a real headless Chromium (<see cref="HeadlessBrowser"/>), with
/// real pip on both sides of it: pip asks `ci` (tier 2) for a project and is refused, which puts the project in
/// the queue; a reviewer signs in, finds it in the queue, opens it and approves it with a reason; the next pip
/// install gets it. A second project denied in the browser stays uninstallable and its page names the reason.
/// Screenshots of the queue and the project pages are saved (the directory is printed in the test output, and
/// the files are copied to $CURATED_INDEX_SCREENSHOTS when that is set).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class ApprovalUiBrowserTests(ITestOutputHelper output)
{
    public const string ScreenshotsVariable = "CURATED_INDEX_SCREENSHOTS";

    private const string Python = "/root/.pyenv/versions/3.11.7/bin/python3.11";
    private const string Reviewer = "e2e-reviewer";
    private const string ReviewerPassword = "e2e-browser-password";
    private const string Approved = "six";
    private const string ApprovedRequirement = "six==1.17.0";
    private const string Denied = "jmespath";
    private const string DeniedRequirement = "jmespath==0.10.0";
    private const string ApprovalReason = "Browser test: tiny, no dependencies, maintained upstream";
    private const string DenialReason = "Browser test: not needed in CI builds";

    [Fact]
    public async Task Reviewer_ApprovesAndDeniesInBrowser_PipInstallsTheApprovedProjectThroughCi()
    {
        var clock = Stopwatch.StartNew();
        var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "approval-ui");
        if (Directory.Exists(screenshots))
        {
            Directory.Delete(screenshots, recursive: true);
        }

        Directory.CreateDirectory(screenshots);
        output.WriteLine($"screenshots: {screenshots}");

        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync(Reviewer, ReviewerPassword, Roles.Reviewer, "test", CancellationToken.None);
        var index = new Uri(proxy.BaseUrl, "ci/simple/").ToString();
        var venv = workspace.PathOf("venv");
        (await workspace.RunAsync(Python, "-m", "venv", venv)).EnsureSuccess();

        // 1. Nothing is approved in ci: both installs are refused, and each request puts its project in the queue.
        foreach (var requirement in new[] { ApprovedRequirement, DeniedRequirement })
        {
            var refused = await PipInstallAsync(workspace, venv, index, requirement);
            Assert.True(refused.ExitCode != 0, refused.Describe());
            Assert.True(refused.Output.Contains($"No matching distribution found for {requirement}", StringComparison.Ordinal), refused.Describe());
            Assert.False(refused.Output.Contains(upstream.BaseUrl.Authority, StringComparison.Ordinal), refused.Describe());
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: both installs refused before review");

        // 2. The reviewer's work, in the browser.
        var browserClock = Stopwatch.StartNew();
        using (var browser = HeadlessBrowser.Start())
        {
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: chromium started ({browserClock.Elapsed.TotalSeconds:F1}s)");
            try
            {
                SignIn(browser, proxy.BaseUrl);

                var queue = OpenQueue(browser, proxy.BaseUrl);
                Assert.True(queue.TryGetValue(Approved, out var approvedRequests) && approvedRequests >= 1, $"{Approved} not in the queue with a request count >= 1\n{browser.Describe()}");
                Assert.True(queue.TryGetValue(Denied, out var deniedRequests) && deniedRequests >= 1, $"{Denied} not in the queue with a request count >= 1\n{browser.Describe()}");
                Save(browser, screenshots, "queue.png");

                OpenProjectFromQueue(browser, Approved);
                Save(browser, screenshots, $"project-{Approved}.png");
                Decide(browser, Approved, "approve", ApprovalReason);
                Save(browser, screenshots, $"project-{Approved}-approved.png");

                OpenQueue(browser, proxy.BaseUrl);
                OpenProjectFromQueue(browser, Denied);
                Save(browser, screenshots, $"project-{Denied}.png");
                Decide(browser, Denied, "deny", DenialReason);
                Save(browser, screenshots, $"project-{Denied}-denied.png");

                // The queue shows pending requests by default; all of them show the verdicts.
                OpenQueue(browser, proxy.BaseUrl, "?status=all");
                Assert.Contains("approved", Row(browser, Approved), StringComparison.Ordinal);
                Assert.Contains("denied", Row(browser, Denied), StringComparison.Ordinal);
                Save(browser, screenshots, "queue-after-decisions.png");
            }
            catch
            {
                SaveFailure(browser, screenshots);
                throw;
            }
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: browser part done and chromium ended ({browserClock.Elapsed.TotalSeconds:F1}s)");

        // 3. The approval applies at once: pip installs the project through ci, and it imports.
        var installed = await PipInstallAsync(workspace, venv, index, ApprovedRequirement);
        Assert.True(installed.ExitCode == 0, installed.Describe());
        Assert.True(installed.Output.Contains($"Downloading {proxy.BaseUrl}ci/files/{Approved}/six-1.17.0-py2.py3-none-any.whl", StringComparison.Ordinal), installed.Describe());
        Assert.False(installed.Output.Contains(upstream.BaseUrl.Authority, StringComparison.Ordinal), installed.Describe());
        var imported = await workspace.RunAsync(Path.Combine(venv, "bin", "python"), "-c", "import six; print(six.__version__)");
        Assert.True(imported.ExitCode == 0 && imported.StandardOutput.Trim() == "1.17.0", imported.Describe());

        // 4. The denial holds: pip still finds nothing, and ci's page for the project gives the reviewer's reason.
        var refusedAgain = await PipInstallAsync(workspace, venv, index, DeniedRequirement);
        Assert.True(refusedAgain.ExitCode != 0, refusedAgain.Describe());
        Assert.True(refusedAgain.Output.Contains($"No matching distribution found for {DeniedRequirement}", StringComparison.Ordinal), refusedAgain.Describe());
        var notImported = await workspace.RunAsync(Path.Combine(venv, "bin", "python"), "-c", "import jmespath");
        Assert.True(notImported.ExitCode != 0, notImported.Describe());

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"ci/simple/{Denied}/"))
        {
            request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
            using var response = await proxy.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var page = JsonDocument.Parse(body);
            Assert.Equal(0, page.RootElement.GetProperty("files").GetArrayLength());
            var status = page.RootElement.GetProperty("project-status");
            Assert.Equal("quarantined", status.GetProperty("status").GetString());
            var reason = status.GetProperty("reason").GetString() ?? "";
            Assert.True(reason.Contains("denied", StringComparison.OrdinalIgnoreCase) && reason.Contains(DenialReason, StringComparison.Ordinal), body);
        }

        var html = await proxy.Client.GetStringAsync(new Uri($"ci/simple/{Denied}/", UriKind.Relative));
        Assert.True(html.Contains(DenialReason, StringComparison.Ordinal), html);

        CopyScreenshots(screenshots);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: done");
    }

    private static void SignIn(HeadlessBrowser browser, Uri baseUrl)
    {
        browser.GoTo(new Uri(baseUrl, "ui/login"));
        browser.WaitForElement(By.Name("UserName")).SendKeys(Reviewer);
        browser.Driver.FindElement(By.Name("Password")).SendKeys(ReviewerPassword);
        browser.Driver.FindElement(By.Id("sign-in")).Click();
        browser.WaitUntilNotAt("/ui/login");
    }

    /// <summary>Opens the queue and reads each row's project and request count (the column whose header names requests).</summary>
    private static Dictionary<string, int> OpenQueue(HeadlessBrowser browser, Uri baseUrl, string query = "")
    {
        browser.GoTo(new Uri(baseUrl, "ui/queue" + query));
        browser.WaitForPath("/ui/queue");
        var rows = browser.WaitFor("queue rows", driver => driver.FindElements(By.CssSelector("tr[data-project]")) is { Count: > 0 } found ? found : null);
        var table = rows[0].FindElement(By.XPath("./ancestor::table[1]"));
        var headers = table.FindElements(By.XPath(".//tr[th][1]/th")).Select(h => h.Text.Trim()).ToList();
        var column = headers.FindIndex(h => RequestsHeader().IsMatch(h));
        Assert.True(column >= 0, $"no request-count column among [{string.Join(" | ", headers)}]\n{browser.Describe()}");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var cells = row.FindElements(By.XPath("./td|./th"));
            var number = column < cells.Count ? FirstNumber().Match(cells[column].Text) : Match.Empty;
            counts[row.GetAttribute("data-project") ?? ""] = number.Success ? int.Parse(number.Value, NumberStyles.None, CultureInfo.InvariantCulture) : -1;
        }

        return counts;
    }

    private static string Row(HeadlessBrowser browser, string project) =>
        browser.WaitForElement(By.CssSelector($"tr[data-project='{project}']")).Text;

    private static void OpenProjectFromQueue(HeadlessBrowser browser, string project)
    {
        var row = browser.WaitForElement(By.CssSelector($"tr[data-project='{project}']"));
        row.FindElement(By.CssSelector($"a[href$='/ui/projects/{project}']")).Click();
        browser.WaitForPath($"/ui/projects/{project}");
        browser.WaitForElement(By.Name("Reason"));
        Assert.True(browser.Text.Contains(project, StringComparison.Ordinal), browser.Describe());
        // The Publishers section (vetted publishers, publishers seen in provenance) shows on every project page.
        Assert.True(browser.Driver.FindElements(By.CssSelector("#publishers h2")).Count == 1, browser.Describe());
    }

    /// <summary>Types the reason, presses the verdict's button, and checks the project page then shows the decision.</summary>
    private static void Decide(HeadlessBrowser browser, string project, string button, string reason)
    {
        var path = $"/ui/projects/{project}";
        browser.Driver.FindElement(By.Name("Reason")).SendKeys(reason);
        var submit = browser.Driver.FindElement(By.Id(button));
        submit.Click();
        browser.WaitFor<string>($"the {button} form to be submitted", driver =>
        {
            try
            {
                _ = submit.Enabled; // still the old page
                return null;
            }
            catch (StaleElementReferenceException)
            {
                return "";
            }
            catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal))
            {
                // Chromium's way of saying the same while the next page replaces the document.
                return "";
            }
        });

        // Wherever the form led, the project page now records the decision with its reason.
        if (!new Uri(browser.Driver.Url).AbsolutePath.Equals(path, StringComparison.Ordinal))
        {
            browser.GoTo(new Uri(new Uri(browser.Driver.Url), path));
        }

        browser.WaitForPath(path);
        browser.WaitFor($"the reason on {path}", _ => browser.Text.Contains(reason, StringComparison.Ordinal) ? "" : null);
    }

    private static async Task<ProcessResult> PipInstallAsync(EndToEndWorkspace workspace, string venv, string index, string requirement) =>
        await workspace.RunAsync(
            Path.Combine(venv, "bin", "python"),
            "-m", "pip", "install", "-v",
            "--no-cache-dir", "--no-compile", "--disable-pip-version-check", "--only-binary", ":all:",
            "--index-url", index,
            requirement);

    private void Save(HeadlessBrowser browser, string directory, string name) =>
        output.WriteLine($"screenshot: {browser.SaveScreenshot(Path.Combine(directory, name))}");

    private void SaveFailure(HeadlessBrowser browser, string directory)
    {
        try
        {
            Save(browser, directory, "failure.png");
            File.WriteAllText(Path.Combine(directory, "failure.html"), browser.Driver.PageSource);
            if (File.Exists(browser.DriverLog))
            {
                File.Copy(browser.DriverLog, Path.Combine(directory, "chromedriver.log"), overwrite: true);
            }

            CopyScreenshots(directory);
        }
        catch (WebDriverException e)
        {
            output.WriteLine($"no failure screenshot: {e.Message}");
        }
    }

    private void CopyScreenshots(string directory)
    {
        var target = Environment.GetEnvironmentVariable(ScreenshotsVariable);
        if (string.IsNullOrEmpty(target))
        {
            return;
        }

        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(directory))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        output.WriteLine($"screenshots copied to {target}");
    }

    [GeneratedRegex("request|demand", RegexOptions.IgnoreCase)]
    private static partial Regex RequestsHeader();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex FirstNumber();
}
