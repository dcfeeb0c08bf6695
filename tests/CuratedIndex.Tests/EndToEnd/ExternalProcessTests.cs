namespace CuratedIndex.Tests.EndToEnd;

[Trait("Category", "EndToEnd")]
public sealed class ExternalProcessTests
{
    [Fact]
    public async Task RunAsync_Timeout_KillsWholeTreeAndKeepsOutput()
    {
        var result = await ExternalProcess.RunAsync("/bin/sh", ["-c", "sleep 60 & echo child=$!; wait"], Path.GetTempPath(), null, TimeSpan.FromSeconds(2));

        Assert.Equal(-1, result.ExitCode);
        Assert.Contains("[killed:", result.StandardError, StringComparison.Ordinal);
        var child = int.Parse(result.StandardOutput.Trim().Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
        // The grandchild is gone too (or a zombie about to be reaped), not left sleeping.
        await Task.Delay(200);
        var status = File.Exists($"/proc/{child}/status") ? File.ReadAllText($"/proc/{child}/status") : "State: gone";
        Assert.DoesNotContain("(sleeping)", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RemovedVariable_IsAbsentInChild()
    {
        var result = await ExternalProcess.RunAsync(
            "/bin/sh",
            ["-c", "echo \"find=${PIP_FIND_LINKS-unset} set=$E2E_PROBE\"; echo err >&2; exit 3"],
            Path.GetTempPath(),
            new Dictionary<string, string?> { ["PIP_FIND_LINKS"] = null, ["E2E_PROBE"] = "yes" },
            TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("find=unset set=yes\n", result.StandardOutput);
        Assert.Equal("err\n", result.StandardError);
        Assert.Contains("exit code 3", result.Describe(), StringComparison.Ordinal);
    }
}
