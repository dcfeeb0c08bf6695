using CuratedIndex.Tests.EndToEnd;

namespace CuratedIndex.Tests.Features.Typosquat;

/// <summary>The built <c>curated-index typosquat-check</c> with a requirements file on standard input.</summary>
public sealed class TyposquatCheckCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("typosquat-check-").FullName;

    [Fact]
    public async Task TyposquatCheck_RequirementsWithLookalikes_PrintsOneLinePerFlaggedNameAndExits1()
    {
        var result = await RunAsync("""
            # production dependencies
            -r base.txt
            --index-url https://example.invalid/simple/
            requests>=2.31
            reqeusts==1.0 ; python_version > "3"
            colourama[win]~=0.4
            flask
            -e git+https://example.invalid/x.git#egg=x
            python3-dateutil
            reqeusts
            """);

        Assert.True(result.ExitCode == 1, result.Describe());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["reqeusts", "requests", "0.92", "edit distance 1 (swapped characters) from 'requests' (rank 6)"], lines[0].Split('\t'));
        Assert.StartsWith("colourama\tcolorama\t", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("python3-dateutil\tpython-dateutil\t", lines[2], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.Equal(4, l.Split('\t').Length));
    }

    [Fact]
    public async Task TyposquatCheck_OnlyEstablishedNames_PrintsNothingAndExits0()
    {
        var result = await RunAsync("requests\nflask==3.0\n# nothing else\n");
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task TyposquatCheck_MissingCorpus_Exits2WithOneLine()
    {
        var result = await RunAsync("requests\n", "--Typosquat:CorpusPath=/nonexistent/corpus.tsv");
        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.StartsWith("error: ", result.StandardError, StringComparison.Ordinal);
    }

    private async Task<ProcessResult> RunAsync(string input, params string[] arguments)
    {
        var requirements = Path.Combine(_directory, "requirements.txt");
        await File.WriteAllTextAsync(requirements, input);
        var executable = Path.Combine(AppContext.BaseDirectory, "curated-index.dll");
        // ExternalProcess closes standard input at start: the shell feeds the file instead.
        return await ExternalProcess.RunAsync(
            "/bin/sh",
            ["-c", "f=\"$1\"; shift; exec dotnet \"$0\" typosquat-check \"$@\" < \"$f\"", executable, requirements, .. arguments],
            _directory,
            environment: null,
            TimeSpan.FromSeconds(60));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
