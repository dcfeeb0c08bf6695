using System.Net;
using System.Net.Sockets;
using CuratedIndex.Tests.EndToEnd;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// <c>curated-index healthcheck</c>, the container image's HEALTHCHECK, run as the image runs it: the built executable
/// against a real server on a free loopback port, then against the same port once nothing listens there.
/// </summary>
public sealed class HealthCheckCommandTests
{
    private static readonly Dictionary<string, string?> Environment = new() { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null };

    [Fact]
    public async Task Healthcheck_ServingStoppedAndWrongPath_ExitsZeroOnlyFor200WithOneLine()
    {
        var root = Directory.CreateTempSubdirectory("curated-index-health-").FullName;
        try
        {
            var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
            await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n");
            var port = ExecutableTests.FreePort();
            var healthz = $"http://127.0.0.1:{port}/healthz";
            await using (var server = ExternalProcess.Start(
                ExecutableTests.Executable(),
                [$"--contentRoot={root}", $"--Urls=http://127.0.0.1:{port}", "--Jobs:Enabled=false", "--Upstream:Url=http://127.0.0.1:9/"],
                root,
                Environment))
            {
                await server.WaitUntilAnswersAsync(new Uri(healthz));

                var healthy = await HealthcheckAsync(root, "--url", healthz);
                Assert.True(healthy.ExitCode == 0, healthy.Describe());
                Assert.Equal($"healthy: GET {healthz} answered 200", healthy.StandardOutput.TrimEnd());
                Assert.Equal("", healthy.StandardError);

                var missing = await HealthcheckAsync(root, "--url", $"http://127.0.0.1:{port}/no-such-endpoint");
                Assert.True(missing.ExitCode == 1, missing.Describe());
                Assert.Equal($"unhealthy: GET http://127.0.0.1:{port}/no-such-endpoint answered 404 Not Found", missing.StandardError.TrimEnd());
                Assert.Equal("", missing.StandardOutput);
            }

            // The server has stopped: nothing listens on its port.
            var stopped = await HealthcheckAsync(root, "--url", healthz);
            Assert.True(stopped.ExitCode == 1, stopped.Describe());
            Assert.StartsWith($"unhealthy: GET {healthz} failed: Connection refused", stopped.StandardError, StringComparison.Ordinal);
            Assert.Single(stopped.StandardError.TrimEnd().Split('\n'));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A server that accepts the connection and never answers: the check gives up before Docker's 5 s kill, saying why.</summary>
    [Fact]
    public async Task Healthcheck_ServerThatNeverAnswers_ExitsOneSayingItDidNotAnswer()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/healthz";
        using var accepted = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            using var connection = await silent.AcceptTcpClientAsync(accepted.Token);
            await Task.Delay(Timeout.Infinite, accepted.Token); // holds the connection open, reads nothing, answers nothing
        });

        var result = await HealthcheckAsync(Path.GetTempPath(), "--url", url);
        await accepted.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting);

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Equal($"unhealthy: GET {url} did not answer within 4 s", result.StandardError.TrimEnd());
    }

    [Theory]
    [InlineData("not a url", "error: --url 'not a url' is not an absolute http or https URL")]
    [InlineData("ftp://127.0.0.1/healthz", "error: --url 'ftp://127.0.0.1/healthz' is not an absolute http or https URL")]
    public async Task Healthcheck_UrlThatIsNotHttp_ExitsTwoWithOneLine(string url, string expected)
    {
        var result = await HealthcheckAsync(Path.GetTempPath(), "--url", url);

        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.Equal(expected, result.StandardError.TrimEnd());
    }

    [Fact]
    public async Task Healthcheck_UnknownOption_ExitsTwoWithoutChecking()
    {
        var result = await HealthcheckAsync(Path.GetTempPath(), "--ur", "http://127.0.0.1:9/healthz");

        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.StartsWith("error: ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("healthy", result.Output, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> HealthcheckAsync(string workingDirectory, params string[] arguments) =>
        ExternalProcess.RunAsync(ExecutableTests.Executable(), ["healthcheck", .. arguments], workingDirectory, Environment, TimeSpan.FromSeconds(30));
}
