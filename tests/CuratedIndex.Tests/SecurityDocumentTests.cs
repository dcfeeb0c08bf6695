using System.Text.RegularExpressions;

namespace CuratedIndex.Tests;

/// <summary>SECURITY.md links each claim to a test: every test it names must exist, so the threat model cannot drift from the suite.</summary>
public sealed partial class SecurityDocumentTests
{
    [Fact]
    public void EveryTestNamedInSecurityMd_Exists()
    {
        var text = File.ReadAllText(FindUpwards("SECURITY.md"));
        var named = TestReference().Matches(text).Select(m => (Class: m.Groups[1].Value, Method: m.Groups[2].Value)).Distinct().ToList();
        var tests = typeof(SecurityDocumentTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods().Select(m => (Class: t.Name, Method: m.Name)))
            .ToHashSet();

        Assert.DoesNotContain("{{TEST:", text, StringComparison.Ordinal);
        Assert.True(named.Count >= 30, $"SECURITY.md names only {named.Count} tests");
        // A class named in the document may be the abstract base of the per-database classes: match on a name prefix.
        var missing = named.Where(n => !tests.Any(t => t.Method == n.Method && t.Class.StartsWith(n.Class, StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "SECURITY.md names tests that do not exist: " + string.Join(", ", missing.Select(m => $"{m.Class}.{m.Method}")));
    }

    private static string FindUpwards(string file)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{file} not found above {AppContext.BaseDirectory}");
    }

    // `ClassTests.Method_Name` in backticks.
    [GeneratedRegex(@"`([A-Z][A-Za-z0-9]*Tests)\.([A-Z][A-Za-z0-9_]*)`")]
    private static partial Regex TestReference();
}
