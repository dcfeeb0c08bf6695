using System.Diagnostics;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Protocol;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// "Approve with dependencies" in a real headless Chromium (<see cref="HeadlessBrowser"/>), with real pip on both sides:
/// pip cannot install pytest 3.5.0 through `ci` (tier 2); a reviewer opens pytest's page, reads its closure (7 projects
/// on Linux, from the wheels' real metadata; six approved already) and approves the other six in one step; the same pip
/// command then installs the whole tree. Screenshots are saved as in <see cref="ApprovalUiBrowserTests"/>.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ClosureUiBrowserTests(ITestOutputHelper output)
{
    // pip 24.2. Python 3.13's venvs hold pip alone, so setuptools too must come from the index.
    private const string Python = "/root/.pyenv/versions/3.13.0/bin/python3.13";
    private const string Reviewer = "e2e-closure-reviewer";
    private const string ReviewerPassword = "e2e-closure-browser-password";
    private const string Reason = "Browser test: the test runner and what it needs";

    private static readonly string[] Installed =
        ["attrs==17.4.0", "more-itertools==4.1.0", "pluggy==0.6.0", "py==1.5.3", "pytest==3.5.0", "setuptools==67.6.1", "six==1.17.0"];

    [Fact]
    public async Task Reviewer_ApprovesPytestWithDependenciesInBrowser_PipThenInstallsTheWholeTreeThroughCi()
    {
        var clock = Stopwatch.StartNew();
        var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "closure-ui");
        if (Directory.Exists(screenshots))
        {
            Directory.Delete(screenshots, recursive: true);
        }

        Directory.CreateDirectory(screenshots);
        output.WriteLine($"screenshots: {screenshots}");

        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        foreach (var path in Directory.GetFiles(FakePyPI.FixturePath("closure")).Order(StringComparer.Ordinal))
        {
            var filename = Path.GetFileName(path);
            Assert.True(DistributionFilename.TryParse(filename, null, out var parsed), filename);
            upstream.AddFile(parsed.Project, filename, File.ReadAllBytes(path));
        }

        // six is approved already: its 1.17.0 carries a size-changed signal (against the stubbed 1.11.0) that would
        // otherwise have to be decided on its own first (ClosureUiTests covers that).
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, policyYaml: "approve: [six]\n");
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync(Reviewer, ReviewerPassword, Roles.Reviewer, "test", CancellationToken.None);
        var index = new Uri(proxy.BaseUrl, "ci/simple/").ToString();
        var venv = workspace.PathOf("venv");
        (await workspace.RunAsync(Python, "-m", "venv", venv)).EnsureSuccess();

        // 1. Nothing is approved in ci: pip finds no pytest, and the request puts pytest in the queue.
        var refused = await PipInstallAsync(workspace, venv, index, "pytest==3.5.0");
        Assert.True(refused.ExitCode != 0, refused.Describe());
        Assert.True(refused.Output.Contains("No matching distribution found for pytest==3.5.0", StringComparison.Ordinal), refused.Describe());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: install refused before review");

        // 2. The reviewer's work, in the browser.
        using (var browser = HeadlessBrowser.Start())
        {
            try
            {
                browser.GoTo(new Uri(proxy.BaseUrl, "ui/login"));
                browser.WaitForElement(By.Name("UserName")).SendKeys(Reviewer);
                browser.Driver.FindElement(By.Name("Password")).SendKeys(ReviewerPassword);
                browser.Driver.FindElement(By.Id("sign-in")).Click();
                browser.WaitUntilNotAt("/ui/login");

                browser.GoTo(new Uri(proxy.BaseUrl, "ui/queue"));
                var row = browser.WaitForElement(By.CssSelector("tr[data-project='pytest']"));
                Save(browser, screenshots, "queue.png");
                row.FindElement(By.CssSelector("a.project-link")).Click();
                browser.WaitForPath("/ui/projects/pytest");

                // The closure: seven projects on Linux, the root first, all but six pending in ci; the button says how many.
                var members = browser.WaitFor("the closure table", d => d.FindElements(By.CssSelector("tr.closure-member")) is { Count: > 0 } found ? found : null);
                Assert.Equal(
                    Installed.Select(r => r.Split("==")[0]),
                    members.Select(m => m.GetAttribute("data-project") ?? "").Order(StringComparer.Ordinal));
                Assert.All(members, m => Assert.Equal(m.GetAttribute("data-project") == "six" ? "visible" : "pending", m.GetAttribute("data-status")));
                var button = browser.Driver.FindElement(By.Id("closure-decide"));
                Assert.Equal("Approve 6 project(s) with dependencies", button.Text.Trim());
                ((IJavaScriptExecutor)browser.Driver).ExecuteScript("arguments[0].scrollIntoView(true);", browser.Driver.FindElement(By.Id("dependencies")));
                Save(browser, screenshots, "project-pytest-dependencies.png");

                browser.Driver.FindElement(By.Id("DependenciesReason")).SendKeys(Reason);
                button.Click();
                var decided = browser.WaitFor("the decided members", d => d.FindElements(By.CssSelector("li.closure-decided-member")) is { Count: > 0 } found ? found : null);
                Assert.Equal(
                    Installed.Select(r => r.Split("==")[0]).Where(p => p != "six"),
                    decided.Select(d => d.GetAttribute("data-project") ?? "").Order(StringComparer.Ordinal));
                Assert.All(browser.Driver.FindElements(By.CssSelector("tr.closure-member")), m => Assert.Equal("visible", m.GetAttribute("data-status")));
                Save(browser, screenshots, "project-pytest-approved-with-dependencies.png");
            }
            catch
            {
                Save(browser, screenshots, "failure.png");
                File.WriteAllText(Path.Combine(screenshots, "failure.html"), browser.Driver.PageSource);
                throw;
            }
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: approved in the browser");

        // 3. One approval was enough: the same pip command installs pytest and its whole tree through ci.
        var installed = await PipInstallAsync(workspace, venv, index, "pytest==3.5.0");
        Assert.True(installed.ExitCode == 0, installed.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(installed, proxy, upstream);
        var list = (await workspace.RunAsync(Path.Combine(venv, "bin", "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check")).EnsureSuccess();
        var names = JsonNode.Parse(list.StandardOutput)!.AsArray()
            .Select(d => $"{ProjectName.Normalize(d!["name"]!.GetValue<string>())}=={d["version"]!.GetValue<string>()}")
            .Where(d => !d.StartsWith("pip==", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        Assert.Equal(Installed, names);
        CopyScreenshots(screenshots);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: done");
    }

    private static async Task<ProcessResult> PipInstallAsync(EndToEndWorkspace workspace, string venv, string index, string requirement) =>
        await workspace.RunAsync(
            Path.Combine(venv, "bin", "python"),
            "-m", "pip", "install", "-v",
            "--no-cache-dir", "--no-compile", "--disable-pip-version-check", "--only-binary", ":all:",
            "--index-url", index,
            requirement);

    private void Save(HeadlessBrowser browser, string directory, string name)
    {
        try
        {
            output.WriteLine($"screenshot: {browser.SaveScreenshot(Path.Combine(directory, name))}");
        }
        catch (WebDriverException e)
        {
            output.WriteLine($"no screenshot {name}: {e.Message}");
        }
    }

    private void CopyScreenshots(string directory)
    {
        var target = Environment.GetEnvironmentVariable(ApprovalUiBrowserTests.ScreenshotsVariable);
        if (string.IsNullOrEmpty(target))
        {
            return;
        }

        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(directory))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }
}
