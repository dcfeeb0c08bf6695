using System.Text.RegularExpressions;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// A temporary directory for one end-to-end test, with a client environment that cannot reach anything
/// but the index under test: every PIP_*, POETRY_* and PDM_* variable of the machine is removed (notably
/// PIP_FIND_LINKS), pip reads no configuration file, and HOME/XDG directories point inside the workspace.
/// Deleted on dispose.
/// </summary>
public sealed partial class EndToEndWorkspace : IDisposable
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    public EndToEndWorkspace()
    {
        Root = Directory.CreateTempSubdirectory("curated-e2e-").FullName;
        var home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in System.Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (name.StartsWith("PIP_", StringComparison.Ordinal) || name.StartsWith("POETRY_", StringComparison.Ordinal)
                || name.StartsWith("PDM_", StringComparison.Ordinal) || name is "PYTHONPATH" or "PYTHONHOME" or "VIRTUAL_ENV")
            {
                environment[name] = null;
            }
        }

        environment["PIP_FIND_LINKS"] = null;
        environment["PIP_CONFIG_FILE"] = "/dev/null";
        environment["PIP_NO_INPUT"] = "1";
        environment["PYTHONNOUSERSITE"] = "1";
        environment["PYTHONDONTWRITEBYTECODE"] = "1";
        environment["HOME"] = home;
        environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(Root, "tmp")).FullName; // pip's build/unpack dirs die with the workspace
        environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        environment["XDG_CACHE_HOME"] = Path.Combine(home, ".cache");
        environment["XDG_DATA_HOME"] = Path.Combine(home, ".local", "share");
        environment["NO_PROXY"] = "127.0.0.1,localhost";
        environment["no_proxy"] = "127.0.0.1,localhost";
        environment["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring";
        Environment = environment;
    }

    public string Root { get; }

    /// <summary>Variables to set (null: remove) for every child process.</summary>
    public Dictionary<string, string?> Environment { get; }

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public Task<ProcessResult> RunAsync(string fileName, params string[] arguments) => RunInAsync(Root, fileName, arguments);

    public Task<ProcessResult> RunInAsync(string workingDirectory, string fileName, params string[] arguments) =>
        ExternalProcess.RunAsync(fileName, arguments, workingDirectory, Environment, CommandTimeout);

    /// <summary>Every http(s) URL a client printed, for asserting that nothing bypassed the index under test.</summary>
    public static IReadOnlyList<string> UrlsIn(string output) => UrlPattern().Matches(output).Select(m => m.Value).ToList();

    [GeneratedRegex(@"https?://[^\s'""<>()]+")]
    private static partial Regex UrlPattern();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child killed on timeout may still hold a file for a moment; the OS cleans temp later.
        }
        catch (UnauthorizedAccessException)
        {
            // Read-only files written by a client; same as above.
        }
    }
}
