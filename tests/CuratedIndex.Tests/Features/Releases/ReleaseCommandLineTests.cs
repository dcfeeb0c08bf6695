using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;
using CuratedIndex.Tests.Infrastructure;
using Json.Schema;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// <c>curated-index check</c>, <c>vet</c> and <c>audits export|import</c>: the built executable against a real server on a
/// loopback port, in front of the fake upstream. Few server starts: each test walks a whole story on one or two servers.
/// </summary>
public sealed class ReleaseCommandLineTests
{
    // six, zipp and jmespath have no cooldown, so a vetting is possible at once; first keeps prod's 7 days; editables is
    // approved by policy and never vetted: the transitive dependency a lock file pulls in that prod does not have.
    private const string Policy = "approve: [editables]\ncooldown:\n  six: 0d\n  zipp: 0d\n  jmespath: 0d\n";

    internal static string Executable() =>
        Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");

    internal static Task<ProcessResult> RunAsync(ProxyInstance proxy, string workingDirectory, string token, params string[] arguments) =>
        ExternalProcess.RunAsync(Executable(), arguments, workingDirectory, new Dictionary<string, string?>
        {
            ["CURATED_INDEX_URL"] = proxy.BaseUrl.ToString(),
            ["CURATED_INDEX_TOKEN"] = token,
            ["DOTNET_ENVIRONMENT"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
        }, TimeSpan.FromSeconds(120));

    internal static string[] Lines(ProcessResult result) => result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<List<string>> ProdFilesAsync(ProxyInstance proxy, string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"prod/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await proxy.Client.SendAsync(request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return json["files"]?.AsArray().Select(f => f!["filename"]!.GetValue<string>()).ToList() ?? [];
    }

    [Fact]
    public async Task CheckVetCheck_OnboardingFromALockFile_MissesNamedWithWhy_TamperedHashRefused_DryRunChangesNothing()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy);
        var proxy = servers.Proxy;
        var upstream = servers.Upstream;
        var work = Directory.CreateTempSubdirectory("curated-cli-").FullName;
        try
        {
            var six = upstream.File("six-1.17.0-py2.py3-none-any.whl").Sha256;
            var zipp = upstream.File("zipp-3.6.0-py3-none-any.whl").Sha256;
            var zipp37 = upstream.File("zipp-3.7.0-py3-none-any.whl").Sha256;
            var jmespath = upstream.File("jmespath-0.10.0-py2.py3-none-any.whl").Sha256;
            var editables = upstream.File("editables-0.2-py3-none-any.whl").Sha256;
            // pip-compile output: every pin with its hashes, transitive dependencies included.
            await File.WriteAllTextAsync(Path.Combine(work, "requirements.txt"),
                $"six==1.17.0 \\\n    --hash=sha256:{six}\n    # via -r requirements.in\nzipp==3.6.0 \\\n    --hash=sha256:{zipp}\n    # via -r requirements.in\n"
                + $"jmespath==0.10.0 \\\n    --hash=sha256:{jmespath}\n    # via zipp\n");
            var wrong = new string('0', 64);
            await File.WriteAllTextAsync(Path.Combine(work, "tampered.txt"),
                $"zipp==3.7.0 --hash=sha256:{wrong}\nfirst==2.0.2 --hash=sha256:{upstream.File("first-2.0.2-py2.py3-none-any.whl").Sha256}\n");
            await File.WriteAllTextAsync(Path.Combine(work, "service.txt"),
                $"zipp>=3.6\nsix==1.17.0 --hash=sha256:{six}\neditables==0.2 --hash=sha256:{editables}\n    # via six\nsix==1.17.0 --hash=sha256:{wrong}\n");

            var before = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "check", "-r", "requirements.txt", "--env", "prod");
            var dryRun = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "vet", "-r", "requirements.txt", "--env", "prod", "--dry-run");
            var decisionsAfterDryRun = await proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync());
            var reviewsAfterDryRun = await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync());
            var vet = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "vet", "-r", "requirements.txt", "--env", "prod");
            var again = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "vet", "-r", "requirements.txt", "--env", "prod");
            var after = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "check", "-r", "requirements.txt", "--env", "prod");
            var tampered = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "vet", "-r", "tampered.txt", "--env", "prod");
            var service = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "check", "-r", "service.txt", "--env", "prod");

            Assert.True(before.ExitCode == 1, before.Describe());
            Assert.Equal(
            [
                "requirements.txt:1: six==1.17.0: prod shows no six: 'six' is not approved for environment 'prod' (tier 3)",
                "requirements.txt:4: zipp==3.6.0: prod shows no zipp: 'zipp' is not approved for environment 'prod' (tier 3)",
                "requirements.txt:7: jmespath==0.10.0: prod shows no jmespath: 'jmespath' is not approved for environment 'prod' (tier 3)",
                "prod: 3 of 3 requirements would not install",
            ], Lines(before));

            Assert.True(dryRun.ExitCode == 0, dryRun.Describe());
            Assert.Equal(
            [
                "six: would be approved",
                "zipp: would be approved",
                "jmespath: would be approved",
                "requirements.txt:1: six==1.17.0: would be vetted: safe-to-deploy with six-1.17.0-py2.py3-none-any.whl",
                "requirements.txt:4: zipp==3.6.0: would be vetted: safe-to-deploy with zipp-3.6.0-py3-none-any.whl",
                "requirements.txt:7: jmespath==0.10.0: would be vetted: safe-to-deploy with jmespath-0.10.0-py2.py3-none-any.whl",
                "dry run, nothing changed: 3 would be vetted, 0 already vetted, 0 refused, 0 waiting for cooldown; 3 projects would be approved",
            ], Lines(dryRun));
            Assert.Equal((0, 0), (decisionsAfterDryRun, reviewsAfterDryRun));

            Assert.True(vet.ExitCode == 0, vet.Describe());
            Assert.Equal("six: approved", Lines(vet)[0]);
            Assert.StartsWith("requirements.txt:1: six==1.17.0: vetted: vetted safe-to-deploy by reviewer ", Lines(vet)[3], StringComparison.Ordinal);
            Assert.Equal("3 vetted, 0 already vetted, 0 refused, 0 waiting for cooldown; 3 projects approved", Lines(vet)[^1]);
            Assert.DoesNotContain('\u001b', vet.StandardOutput); // not a terminal: plain lines, no progress bar
            Assert.True(again.ExitCode == 0, again.Describe());
            Assert.Equal("0 vetted, 3 already vetted, 0 refused, 0 waiting for cooldown; 0 projects approved", Lines(again)[^1]);

            Assert.True(after.ExitCode == 0, after.Describe());
            Assert.Equal(["prod: all 3 requirements would install"], Lines(after));
            Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], await ProdFilesAsync(proxy, "zipp"));

            Assert.True(tampered.ExitCode == 1, tampered.Describe());
            Assert.Equal(
            [
                "first: approved",
                $"tampered.txt:1: zipp==3.7.0: refused: sha256 {wrong} in the lock file matches no file upstream lists for zipp 3.7.0 (upstream: zipp-3.7.0-py3-none-any.whl {zipp37}); not vetted",
                "tampered.txt:2: first==2.0.2: waiting for cooldown: ",
                "0 vetted, 0 already vetted, 1 refused, 1 waiting for cooldown; 1 project approved",
            ], Lines(tampered).Select(l => l.StartsWith("tampered.txt:2:", StringComparison.Ordinal) ? l[..l.IndexOf("cooldown: ", StringComparison.Ordinal)] + "cooldown: " : l).ToList());
            Assert.Contains("inside its cooldown of 7d", Lines(tampered)[2], StringComparison.Ordinal);
            Assert.Null(await proxy.QueryAsync(db => db.ReleaseDecisions.FirstOrDefaultAsync(d => d.Project == "zipp" && d.Version == "3.7.0")));

            Assert.True(service.ExitCode == 1, service.Describe());
            Assert.Equal(
            [
                "service.txt:1: zipp>=3.6: prod installs zipp 3.6.0, the newest version it shows that satisfies >=3.6 (3.7.0 is newer upstream: release 3.7.0 of 'zipp' is not vetted for environment 'prod' (tier 3))",
                "service.txt:3: editables==0.2: prod does not list editables 0.2: release 0.2 of 'editables' is not vetted for environment 'prod' (tier 3)",
                $"service.txt:5: six==1.17.0: prod serves no file of six 1.17.0 with a sha256 the lock file allows: it serves six-1.17.0-py2.py3-none-any.whl sha256 {six}",
                "prod: 2 of 4 requirements would not install",
            ], Lines(service));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task ClientCommands_WithoutServerOrWithAWrongToken_StopWithOneLineAndExit2()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy);
        var proxy = servers.Proxy;
        var viewer = await proxy.CreateUserWithTokenAsync("vera", "viewer");
        var work = Directory.CreateTempSubdirectory("curated-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work, "requirements.txt"), $"six==1.17.0 --hash=sha256:{servers.Upstream.File("six-1.17.0-py2.py3-none-any.whl").Sha256}\n");
            var noServer = await ExternalProcess.RunAsync(Executable(), ["check", "-r", "requirements.txt", "--env", "prod"], work,
                new Dictionary<string, string?> { ["CURATED_INDEX_URL"] = null, ["CURATED_INDEX_TOKEN"] = null }, TimeSpan.FromSeconds(60));
            var noToken = await ExternalProcess.RunAsync(Executable(), ["check", "-r", "requirements.txt", "--env", "prod", "--server", proxy.BaseUrl.ToString()], work,
                new Dictionary<string, string?> { ["CURATED_INDEX_URL"] = null, ["CURATED_INDEX_TOKEN"] = null }, TimeSpan.FromSeconds(60));
            var badToken = await RunAsync(proxy, work, "not-a-token", "check", "-r", "requirements.txt", "--env", "prod");
            var viewerVets = await RunAsync(proxy, work, viewer, "vet", "-r", "requirements.txt", "--env", "prod");
            var typo = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "vet", "-r", "requirements.txt", "--env", "prod", "--dryrun");
            var unknownEnv = await RunAsync(proxy, work, ApiTestKit.BootstrapToken, "check", "-r", "requirements.txt", "--env", "staging");
            var unreachable = await ExternalProcess.RunAsync(Executable(), ["audits", "export", "--server", "http://127.0.0.1:9/", "--token", "x"], work, null, TimeSpan.FromSeconds(60));

            foreach (var result in new[] { noServer, noToken, badToken, viewerVets, typo, unknownEnv, unreachable })
            {
                Assert.True(result.ExitCode == 2, result.Describe());
                Assert.Equal("", result.StandardOutput);
            }

            Assert.Equal("error: no server: give --server URL or set CURATED_INDEX_URL", noServer.StandardError.TrimEnd());
            Assert.Equal("error: no token: give --token TOKEN or set CURATED_INDEX_TOKEN (an API token from /ui/tokens)", noToken.StandardError.TrimEnd());
            Assert.Equal("error: the server refused the token (401 unauthorized): check --token or CURATED_INDEX_TOKEN", badToken.StandardError.TrimEnd());
            Assert.Equal("error: the token's account may not POST /api/v1/projects/six/approve (403 forbidden): it needs the reviewer role (break-glass: admin)", viewerVets.StandardError.TrimEnd());
            Assert.Equal("error: unrecognized argument '--dryrun' (see --help)", typo.StandardError.TrimEnd());
            Assert.Equal("error: unknown environment 'staging'", unknownEnv.StandardError.TrimEnd());
            Assert.Equal("error: cannot reach the server at http://127.0.0.1:9/: Connection refused", unreachable.StandardError.TrimEnd());
            Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task AuditsExportThenImport_IntoASecondFreshInstance_ShowsTheSameReleases_AndATamperedSha256IsRefused()
    {
        const string approvals = "approve: [six, zipp]\n";
        await using var exporter = await TestServers.StartAsync(DatabaseProvider.Sqlite, approvals + "cooldown:\n  six: 0d\n  zipp: 0d\n", new Dictionary<string, string> { ["Server:Organization"] = "team-a" });
        // The importer keeps prod's 7-day cooldown: an import is another organization's review of the same bytes, not held by it.
        await using var importer = await TestServers.StartAsync(DatabaseProvider.Sqlite, approvals);
        var work = Directory.CreateTempSubdirectory("curated-cli-").FullName;
        try
        {
            await exporter.Proxy.PostJsonAsync("api/v1/projects/six/releases/1.17.0/vet", new { reason = "read every line" });
            await exporter.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "diff against 3.5 is small", criteria = "safe-to-run" });

            var export = await RunAsync(exporter.Proxy, work, ApiTestKit.BootstrapToken, "audits", "export");
            Assert.True(export.ExitCode == 0, export.Describe());
            await File.WriteAllTextAsync(Path.Combine(work, "audits.json"), export.StandardOutput);
            var exported = JsonNode.Parse(export.StandardOutput)!;
            var sixSha = exporter.Upstream.File("six-1.17.0-py2.py3-none-any.whl").Sha256;
            exported["vettings"]![0]!["files"]![0]!["sha256"] = new string('a', 64);
            await File.WriteAllTextAsync(Path.Combine(work, "tampered.json"), exported.ToJsonString());

            var dryRun = await RunAsync(importer.Proxy, work, ApiTestKit.BootstrapToken, "audits", "import", "audits.json", "--dry-run");
            var prodAfterDryRun = await ProdFilesAsync(importer.Proxy, "six");
            var import = await RunAsync(importer.Proxy, work, ApiTestKit.BootstrapToken, "audits", "import", "audits.json");
            var release = await importer.Proxy.GetJsonAsync("api/v1/projects/six/releases/1.17.0");
            var tampered = await RunAsync(importer.Proxy, work, ApiTestKit.BootstrapToken, "audits", "import", "tampered.json", "--projects", "six");
            var reexport = await RunAsync(importer.Proxy, work, ApiTestKit.BootstrapToken, "audits", "export", "--since", "2000-01-01");

            // Both the export and a file tampered with stay valid audits files: the refusal is upstream's digest, not the schema.
            AssertValidAgainstSchema(export.StandardOutput);
            AssertValidAgainstSchema(exported.ToJsonString());
            AssertValidAgainstSchema(reexport.StandardOutput);
            var document = JsonNode.Parse(export.StandardOutput)!;
            Assert.Equal("team-a", document["organization"]!.GetValue<string>());
            Assert.Equal(["six 1.17.0 safe-to-deploy", "zipp 3.6.0 safe-to-run"],
                document["vettings"]!.AsArray().Select(v => $"{v!["project"]} {v["version"]} {v["criteria"]}"));
            Assert.Equal(sixSha, document["vettings"]![0]!["files"]![0]!["sha256"]!.GetValue<string>());
            Assert.Equal("read every line", document["vettings"]![0]!["notes"]!.GetValue<string>());

            Assert.True(dryRun.ExitCode == 0, dryRun.Describe());
            Assert.Equal(
            [
                "six 1.17.0: would-vet: six 1.17.0 would be vetted safe-to-deploy with six-1.17.0-py2.py3-none-any.whl",
                "zipp 3.6.0: would-vet: zipp 3.6.0 would be vetted safe-to-run with zipp-3.6.0-py3-none-any.whl",
                "dry run, nothing changed: import from team-a: 2 would-vet, 0 skipped, 0 refused, 0 waiting for cooldown; 0 left out by --criteria/--projects",
            ], Lines(dryRun));
            Assert.Empty(prodAfterDryRun);

            Assert.True(import.ExitCode == 0, import.Describe());
            Assert.Equal("import from team-a: 2 vetted, 0 skipped, 0 refused, 0 waiting for cooldown; 0 left out by --criteria/--projects", Lines(import)[^1]);
            Assert.Equal(["six-1.17.0-py2.py3-none-any.whl"], await ProdFilesAsync(importer.Proxy, "six"));
            Assert.Equal(await ProdFilesAsync(exporter.Proxy, "six"), await ProdFilesAsync(importer.Proxy, "six"));
            // prod requires safe-to-deploy: zipp's safe-to-run vetting shows in neither instance's prod.
            Assert.Equal(await ProdFilesAsync(exporter.Proxy, "zipp"), await ProdFilesAsync(importer.Proxy, "zipp"));
            Assert.Equal("import", release["decision"]!["how"]!.GetValue<string>());
            Assert.Equal("team-a", release["decision"]!["source"]!.GetValue<string>());
            Assert.Equal("vetted safe-to-deploy by import from team-a (bootstrap-admin)", release["decision"]!["summary"]!.GetValue<string>());

            Assert.True(tampered.ExitCode == 1, tampered.Describe());
            Assert.Equal(
            [
                // Vetted here already: the import neither replaces the vetting nor pins the other digest (an unvetted release
                // is refused on upstream's digest by the same check as the vet API: Tier3IntegrationTests.Vet_WithADigestThatDiffersFromUpstream…).
                $"six 1.17.0: refused: six 1.17.0 is vetted safe-to-deploy by import from team-a (bootstrap-admin) here, and 'six-1.17.0-py2.py3-none-any.whl' with sha256 {new string('a', 64)} is not among its pins; an import never replaces a vetting in force",
                "import from team-a: 0 vetted, 0 skipped, 1 refused, 0 waiting for cooldown; 1 left out by --criteria/--projects",
            ], Lines(tampered));
            Assert.Equal(["six-1.17.0-py2.py3-none-any.whl"], await ProdFilesAsync(importer.Proxy, "six"));

            // A re-export keeps where the vettings came from.
            var again = JsonNode.Parse(reexport.StandardOutput)!["vettings"]!.AsArray();
            Assert.All(again, v => Assert.Equal(("import", "team-a"), (v!["how"]!.GetValue<string>(), v["source"]!.GetValue<string>())));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertValidAgainstSchema(string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = AuditsFileTests.Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))) + "\n" + json);
    }
}
