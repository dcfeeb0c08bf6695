using System.Diagnostics;
using System.Globalization;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Debian's headless Chromium driven by Debian's chromedriver through Selenium. Both paths are given
/// explicitly, so Selenium Manager never runs (it would try to download a driver and a browser). The browser
/// gets a private profile, no background networking, and a host resolver that resolves nothing but
/// 127.0.0.1, so the only thing it can reach is the server under test. Dispose always ends chromedriver,
/// Chromium and every process Chromium started, even when the WebDriver session is broken.
/// </summary>
public sealed class HeadlessBrowser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string ChromeDriverDirectory = "/usr/bin";
    public const string ChromeDriverName = "chromedriver";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly ChromeDriverService _service;
    private readonly ChromeDriver _driver;
    private bool _disposed;

    private HeadlessBrowser(ChromeDriverService service, ChromeDriver driver, string root)
    {
        _service = service;
        _driver = driver;
        Root = root;
    }

    /// <summary>The browser's private directory: its profile and chromedriver's log.</summary>
    public string Root { get; }

    public string DriverLog => Path.Combine(Root, "chromedriver.log");

    public IWebDriver Driver => _driver;

    /// <summary>Waits up to this long for a page to show what a test expects.</summary>
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromSeconds(20);

    public static HeadlessBrowser Start()
    {
        foreach (var path in new[] { ChromiumPath, Path.Combine(ChromeDriverDirectory, ChromeDriverName) })
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} is missing: the browser test needs Debian's chromium and chromium-driver (./test.sh installs them)");
            }
        }

        var root = Directory.CreateTempSubdirectory("curated-browser-").FullName;
        var profile = Directory.CreateDirectory(Path.Combine(root, "profile")).FullName;
        var service = ChromeDriverService.CreateDefaultService(ChromeDriverDirectory, ChromeDriverName);
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        service.LogPath = Path.Combine(root, "chromedriver.log");

        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-breakpad",
            "--disable-domain-reliability",
            "--disable-dev-shm-usage",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
            "--metrics-recording-only",
            "--password-store=basic",
            "--use-mock-keychain",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--window-size=1366,900",
            $"--user-data-dir={profile}");

        ChromeDriver? driver = null;
        try
        {
            driver = new ChromeDriver(service, options, CommandTimeout);
            driver.Manage().Timeouts().PageLoad = CommandTimeout;
            return new HeadlessBrowser(service, driver, root);
        }
        catch
        {
            // The driver process may be up without a session: end it and whatever it started.
            var started = ProcessTree.Snapshot(service.ProcessId, profile);
            try
            {
                driver?.Dispose();
                service.Dispose();
            }
            finally
            {
                ProcessTree.KillSurvivors(started);
            }

            throw;
        }
    }

    public void GoTo(Uri url) => _driver.Navigate().GoToUrl(url);

    /// <summary>Waits until <paramref name="found"/> returns a value (not null), or fails with what the page shows.</summary>
    public T WaitFor<T>(string what, Func<IWebDriver, T?> found)
        where T : class
    {
        var wait = new WebDriverWait(_driver, WaitTimeout) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            return wait.Until(driver =>
            {
                try
                {
                    return found(driver);
                }
                catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal))
                {
                    // Chromium reports an element of a document being replaced this way instead of as stale: poll again.
                    return null;
                }
            })!;
        }
        catch (WebDriverTimeoutException e)
        {
            throw new InvalidOperationException($"waited {WaitTimeout.TotalSeconds:F0}s for {what}; at {_driver.Url}:\n{Describe()}", e);
        }
    }

    public IWebElement WaitForElement(By by) =>
        WaitFor(by.ToString(), driver => driver.FindElements(by).FirstOrDefault(e => e.Displayed));

    public void WaitForPath(string path) =>
        WaitFor($"the page {path}", driver => new Uri(driver.Url).AbsolutePath.Equals(path, StringComparison.Ordinal) && IsLoaded(driver) ? "" : null);

    public void WaitUntilNotAt(string path) =>
        WaitFor($"a page other than {path}", driver => !new Uri(driver.Url).AbsolutePath.Equals(path, StringComparison.Ordinal) && IsLoaded(driver) ? "" : null);

    /// <summary>The visible text of the page body.</summary>
    public string Text => _driver.FindElement(By.TagName("body")).Text;

    /// <summary>Saves the whole page, beyond the visible part of the window, as PNG.</summary>
    public string SaveScreenshot(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var size = (IReadOnlyCollection<object>)_driver.ExecuteScript(
            "const e = document.documentElement; return [Math.max(e.scrollWidth, e.clientWidth), Math.max(e.scrollHeight, document.body ? document.body.scrollHeight : 0)];")!;
        var width = Convert.ToInt32(size.First(), CultureInfo.InvariantCulture);
        var height = Math.Min(Convert.ToInt32(size.Last(), CultureInfo.InvariantCulture), 10_000);
        var shot = _driver.ExecuteCdpCommand("Page.captureScreenshot", new Dictionary<string, object?>
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object> { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        });
        var data = (shot as IDictionary<string, object>)?["data"] as string ?? throw new InvalidOperationException($"no screenshot data from the browser: {shot}");
        File.WriteAllBytes(path, Convert.FromBase64String(data));
        return path;
    }

    /// <summary>The URL, title and body text, for failure messages.</summary>
    public string Describe()
    {
        try
        {
            var text = Text;
            return $"{_driver.Url} — {_driver.Title}\n{(text.Length > 4000 ? text[..4000] + "\n[...]" : text)}";
        }
        catch (WebDriverException e)
        {
            return $"(page not readable: {e.Message})";
        }
    }

    private static bool IsLoaded(IWebDriver driver) =>
        string.Equals(((IJavaScriptExecutor)driver).ExecuteScript("return document.readyState;") as string, "complete", StringComparison.Ordinal);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // Everything chromedriver started, taken before asking it to quit: a crashed or hung browser
        // would otherwise be re-parented to init and outlive the test.
        var started = ProcessTree.Snapshot(_service.ProcessId, Path.Combine(Root, "profile"));
        try
        {
            try
            {
                _driver.Quit();
            }
            catch (WebDriverException)
            {
                // The session is already gone; the processes are ended below.
            }

            _driver.Dispose();
            _service.Dispose();
        }
        finally
        {
            ProcessTree.KillSurvivors(started);
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A process was still writing its profile; temp is cleaned later.
            }
            catch (UnauthorizedAccessException)
            {
                // Same.
            }
        }
    }

    /// <summary>Processes found through /proc: a root process, its descendants, and any whose command line names a marker.</summary>
    internal static class ProcessTree
    {
        public sealed record Started(int Id, string StartTime);

        public static IReadOnlyList<Started> Snapshot(int rootId, string marker)
        {
            var all = new List<(int Id, int Parent, string StartTime, string CommandLine)>();
            foreach (var directory in SafeDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    continue;
                }

                var stat = Read(Path.Combine(directory, "stat"));
                var commandLine = Read(Path.Combine(directory, "cmdline"))?.Replace('\0', ' ');
                var fields = stat is null ? null : StatFields(stat);
                if (fields is null || commandLine is null)
                {
                    continue;
                }

                all.Add((id, int.Parse(fields[1], CultureInfo.InvariantCulture), fields[19], commandLine));
            }

            var chosen = new HashSet<int>();
            if (rootId > 0)
            {
                chosen.Add(rootId);
            }

            chosen.UnionWith(all.Where(p => p.CommandLine.Contains(marker, StringComparison.Ordinal)).Select(p => p.Id));
            bool grew;
            do
            {
                grew = false;
                foreach (var process in all)
                {
                    if (chosen.Contains(process.Parent) && chosen.Add(process.Id))
                    {
                        grew = true;
                    }
                }
            }
            while (grew);

            chosen.Remove(Environment.ProcessId);
            return all.Where(p => chosen.Contains(p.Id)).Select(p => new Started(p.Id, p.StartTime)).ToList();
        }

        /// <summary>Kills each snapshotted process that still runs (same id and same start time: not a reused id).</summary>
        public static void KillSurvivors(IReadOnlyList<Started> started)
        {
            foreach (var process in started)
            {
                var stat = Read($"/proc/{process.Id}/stat");
                var fields = stat is null ? null : StatFields(stat);
                if (fields is null || fields[19] != process.StartTime)
                {
                    continue;
                }

                try
                {
                    using var running = Process.GetProcessById(process.Id);
                    running.Kill();
                    running.WaitForExit(5_000);
                }
                catch (ArgumentException)
                {
                    // Exited meanwhile.
                }
                catch (InvalidOperationException)
                {
                    // Exited meanwhile.
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    // Exiting while being killed.
                }
            }
        }

        // /proc/PID/stat is "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so the fields
        // after the last ')' are split: [0] state (field 3 of proc(5)), [1] ppid (4), [19] starttime (22).
        private static string[]? StatFields(string stat)
        {
            var end = stat.LastIndexOf(')');
            if (end < 0)
            {
                return null;
            }

            var rest = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return rest.Length > 19 ? rest : null;
        }

        private static string? Read(string path)
        {
            try
            {
                return File.ReadAllText(path);
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static string[] SafeDirectories(string path)
        {
            try
            {
                return Directory.GetDirectories(path);
            }
            catch (IOException)
            {
                return [];
            }
        }
    }
}
