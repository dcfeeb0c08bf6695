using System.Net;
using System.Net.Sockets;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;

namespace CuratedIndex.Tests.Hosting;

/// <summary>The built executable as the README runs it: no command means serve, with configuration arguments.</summary>
public sealed class ExecutableTests
{
    [Fact]
    public async Task Executable_WithoutCommand_ServesWithItsConfigurationArguments()
    {
        var root = Directory.CreateTempSubdirectory("curated-index-exe-").FullName;
        try
        {
            var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
            await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n");
            var port = FreePort();
            var executable = Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
                new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");
            await using var server = ExternalProcess.Start(
                executable,
                [$"--contentRoot={root}", $"--Urls=http://127.0.0.1:{port}", "--Jobs:Enabled=false", "--Upstream:Url=http://127.0.0.1:9/"],
                root,
                new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null });

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            HttpStatusCode? status = null;
            for (var attempt = 0; attempt < 120 && status != HttpStatusCode.OK; attempt++)
            {
                try
                {
                    status = (await client.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250);
                }
            }

            Assert.True(status == HttpStatusCode.OK, $"the server did not answer /healthz: {server.CommandLine}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("0 0 3 * * ?", "'0 0 3 * * ?' is a cron with seconds or '?' (6 or 7 fields), which Hangfire does not take; use a 5-field cron (UTC) such as '0 3 * * *' or 'manual'")]
    [InlineData("06:00:00", "'06:00:00' is an interval, which schedules no longer take; use a 5-field cron (UTC) such as '0 */6 * * *' or 'manual'")]
    public async Task Executable_OldScheduleFormInConfiguration_StopsWithOneLineNamingTheKeyAndTheFix(string schedule, string problem)
    {
        var root = Directory.CreateTempSubdirectory("curated-index-exe-").FullName;
        try
        {
            var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
            await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n");

            var result = await ExternalProcess.RunAsync(
                Executable(),
                [$"--contentRoot={root}", $"--Urls=http://127.0.0.1:{FreePort()}", "--Upstream:Url=http://127.0.0.1:9/", $"--Jobs:Scrub:Schedule={schedule}"],
                root,
                new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null },
                TimeSpan.FromSeconds(60));

            Assert.True(result.ExitCode == 2, result.Describe());
            Assert.Equal($"configuration error: Jobs:Scrub:Schedule: {problem}", result.StandardError.TrimEnd());
            Assert.False(File.Exists(Path.Combine(root, "data", "curated-index.db")), "nothing is prepared before the schedules are read");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The built executable, as the README runs it.</summary>
    internal static string Executable() =>
        Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
