using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// <c>curated-index approve [--with-deps]</c> and <c>vet --with-deps</c>: the built executable against a real server on a
/// loopback port, in front of the fake upstream with pytest 3.5.0's closure and a team's service (acme-orders 1.0.0, a
/// wheel the test builds) that needs it: 13 projects in all. One server for the whole story.
/// </summary>
public sealed class ClosureCommandLineTests
{
    private static readonly string[] Closure =
    [
        "acme-orders==1.0.0", "attrs==17.4.0", "first==2.0.2", "jmespath==0.10.0", "more-itertools==4.1.0", "pluggy==0.6.0",
        "py==1.5.3", "pytest==3.5.0", "setuptools==67.6.1", "six==1.17.0", "tomlkit==0.5.3", "typing-extensions==4.4.0", "zipp==3.7.0",
    ];

    // Every member may be vetted at once but first, which keeps prod's 7 days: the vetting waits for it, or breaks glass.
    private static readonly string Policy = "cooldown:\n" + string.Concat(Closure.Select(r => r.Split("==")[0]).Where(p => p != "first").Select(p => $"  {p}: 0d\n"));

    [Fact]
    public async Task ApproveAndVetWithDeps_DecideTheWholeClosureInOneCommand_BlockersOnStandardErrorExit1_UsageExit2()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy);
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.WithFixtureClosure();
        foreach (var wheel in new[]
        {
            WheelBuilder.Build("acme-orders", "1.0.0", "pytest==3.5.0", "tomlkit", "zipp>=3.6", "jmespath", "first", "typing-extensions"),
            WheelBuilder.Build("acme-billing", "2.1.0", "jmespath", "reqeusts>=2.18"),
            WheelBuilder.Build("reqeusts", "2.18.4"),
        })
        {
            upstream.AddFile(wheel.Project, wheel.Filename, wheel.Content);
        }

        var work = Directory.CreateTempSubdirectory("curated-cli-").FullName;
        try
        {
            Task<ProcessResult> Cli(params string[] arguments) => ReleaseCommandLineTests.RunAsync(proxy, work, ApiTestKit.BootstrapToken, arguments);
            var dependencies = Closure.Where(r => !r.StartsWith("acme-orders==", StringComparison.Ordinal)).ToList();

            // six 1.17.0 carries an anomaly signal (four times the size of 1.11.0, a stubbed wheel here), which the closure
            // records when it reads six's page: a reviewer decides six on its own first, never as someone's dependency.
            var blocked = await Cli("approve", "--with-deps", "acme-orders==1.0.0", "--env", "ci");
            await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "size grew from 1.11.0: read the diff, fine" });
            var dryRun = await Cli("approve", "--with-deps", "acme-orders==1.0.0", "--env", "ci", "--dry-run");
            var decisionsAfterDryRun = await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync());
            var approve = await Cli("approve", "--with-deps", "acme-orders==1.0.0", "--env", "ci");
            var approvals = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.ProjectApprove).ToListAsync());

            Assert.True(blocked.ExitCode == 1, blocked.Describe());
            Assert.Contains(blocked.StandardError.Split('\n'), l => l.StartsWith("six 1.17.0: signal: ", StringComparison.Ordinal) && l.Contains("size-changed", StringComparison.Ordinal));
            Assert.True(dryRun.ExitCode == 0, dryRun.Describe());
            Assert.Equal(
                new[] { "would approve acme-orders" }.Concat(dependencies.Where(d => d != "six==1.17.0").Select(d => $"would approve {d.Split("==")[0]} (dependency of acme-orders 1.0.0)")).Order(StringComparer.Ordinal),
                ReleaseCommandLineTests.Lines(dryRun)[..^1].Order(StringComparer.Ordinal));
            Assert.Equal("dry run, nothing changed: acme-orders 1.0.0 with its dependencies in ci: 13 projects, 12 would be decided, 0 blockers", ReleaseCommandLineTests.Lines(dryRun)[^1]);
            Assert.Equal(1, decisionsAfterDryRun);

            Assert.True(approve.ExitCode == 0, approve.Describe());
            Assert.Equal("", approve.StandardError);
            var approveLines = ReleaseCommandLineTests.Lines(approve);
            Assert.Equal("approved acme-orders", approveLines[0]);
            Assert.Equal(
                dependencies.Where(d => d != "six==1.17.0").Select(d => $"approved {d.Split("==")[0]} (dependency of acme-orders 1.0.0)").Order(StringComparer.Ordinal),
                approveLines[1..^1].Order(StringComparer.Ordinal));
            Assert.Equal("acme-orders 1.0.0 with its dependencies in ci: 13 projects, 12 approved, 1 already visible", approveLines[^1]);
            Assert.Equal(13, approvals.Count);
            Assert.Contains(approvals, r => r.Subject == "project:pluggy"
                && r.Reason == "dependency of acme-orders 1.0.0, approved by bootstrap-admin: approved with dependencies via curated-index approve");

            // Tier 3: no version given, so the command asks the closure which release it starts from. first is in its
            // cooldown, and six 1.17.0's signal stops it again: a reviewer must vet six on its own first, whatever the break-glass.
            var waiting = await Cli("vet", "--with-deps", "acme-orders", "--env", "prod");
            var vettingsWhileWaiting = await proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync());
            await proxy.PostJsonAsync("api/v1/projects/six/releases/1.17.0/vet", new { reason = "size grew from 1.11.0: read the diff, fine" });
            var vet = await Cli("vet", "--with-deps", "acme-orders", "--env", "prod", "--break-glass", "orders launch today");
            var vettings = await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().OrderBy(d => d.Project).ToListAsync());
            var vetAudit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.ReleaseVetBreakGlass || r.Action == AuditAction.ReleaseVet).ToListAsync());

            Assert.True(waiting.ExitCode == 1, waiting.Describe());
            Assert.Equal("", waiting.StandardOutput);
            var waitingLines = waiting.StandardError.TrimEnd().Split('\n');
            Assert.Contains("nothing was decided", waitingLines[0], StringComparison.Ordinal);
            Assert.Contains(waitingLines, l => l.StartsWith("six 1.17.0: signal: ", StringComparison.Ordinal) && l.Contains("size-changed", StringComparison.Ordinal));
            Assert.Contains(waitingLines, l => l.StartsWith("first 2.0.2: inside its cooldown of 7d", StringComparison.Ordinal));
            Assert.Equal(0, vettingsWhileWaiting);

            Assert.True(vet.ExitCode == 0, vet.Describe());
            var vetLines = ReleaseCommandLineTests.Lines(vet);
            Assert.Equal("vetted acme-orders 1.0.0", vetLines[0]);
            Assert.Equal(
                dependencies.Where(d => d != "six==1.17.0").Select(d => $"vetted {d.Replace("==", " ", StringComparison.Ordinal)} (dependency of acme-orders 1.0.0)").Order(StringComparer.Ordinal),
                vetLines[1..^1].Order(StringComparer.Ordinal));
            Assert.Equal("acme-orders 1.0.0 with its dependencies in prod: 13 projects, 0 approved, 12 vetted, 1 already visible", vetLines[^1]);
            Assert.Equal(Closure, vettings.Select(d => $"{d.Project}=={d.Version}").Order(StringComparer.Ordinal));
            Assert.All(vettings, d => Assert.Equal("vetted", d.Verdict));
            Assert.Equal(13, vetAudit.Count);
            // Glass is broken only where it had to be: first, inside its cooldown.
            Assert.Equal("release:first==2.0.2", Assert.Single(vetAudit, r => r.Action == AuditAction.ReleaseVetBreakGlass).Subject);
            // A release's audit reason starts with what was pinned ("[safe-to-deploy; how=reviewer; 1 files pinned, …] ").
            Assert.EndsWith(
                "] dependency of acme-orders 1.0.0, vetted by bootstrap-admin: vetted with dependencies via curated-index vet; break-glass: orders launch today",
                Assert.Single(vetAudit, r => r.Subject == "release:zipp==3.7.0").Reason,
                StringComparison.Ordinal);

            // A lookalike of requests in another service's closure: refused, named on standard error, nothing approved.
            var typosquat = await Cli("approve", "--with-deps", "acme-billing==2.1.0", "--env", "ci");
            var billing = await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync(d => d.Project == "acme-billing" || d.Project == "reqeusts"));

            Assert.True(typosquat.ExitCode == 1, typosquat.Describe());
            Assert.Equal("", typosquat.StandardOutput);
            Assert.Contains(typosquat.StandardError.Split('\n'), l => l.StartsWith("reqeusts 2.18.4: ", StringComparison.Ordinal) && l.Contains("requests", StringComparison.Ordinal));
            Assert.Equal(0, billing);

            // Without --with-deps: the project alone.
            var plain = await Cli("approve", "editables");
            var editables = await proxy.QueryAsync(db => db.ProjectDecisions.AsNoTracking().SingleAsync(d => d.Project == "editables"));

            Assert.True(plain.ExitCode == 0, plain.Describe());
            Assert.Equal(["approved editables"], ReleaseCommandLineTests.Lines(plain));
            Assert.Equal(("approved", "approved via curated-index approve"), (editables.Verdict, editables.Reason));

            // Usage: nothing reaches the server, exit 2 with one line.
            var range = await Cli("approve", "--with-deps", "acme-orders>=1", "--env", "ci");
            var noMode = await Cli("vet", "--env", "prod");
            var bothModes = await Cli("vet", "-r", "requirements.txt", "--with-deps", "acme-orders", "--env", "prod");
            var noEnv = await Cli("approve", "--with-deps", "acme-orders");
            var unknownEnv = await Cli("approve", "--with-deps", "acme-orders", "--env", "staging");
            var typoFirst = await Cli("approve", "--dryrun", "--with-deps", "acme-orders", "--env", "ci");
            var typoLast = await Cli("vet", "--with-deps", "acme-orders", "--env", "prod", "--dryrun");

            foreach (var result in new[] { range, noMode, bothModes, noEnv, unknownEnv, typoFirst, typoLast })
            {
                Assert.True(result.ExitCode == 2, result.Describe());
                Assert.Equal("", result.StandardOutput);
                Assert.Single(result.StandardError.TrimEnd().Split('\n'));
            }

            Assert.Equal("error: 'acme-orders>=1': give one exact version (name==VERSION) or none, not '>=1': the dependencies are computed for one release", range.StandardError.TrimEnd());
            Assert.Equal("error: give -r FILE (vet a lock file's pins) or --with-deps REQUIREMENT (vet a release with its dependencies)", noMode.StandardError.TrimEnd());
            Assert.StartsWith("error: give either -r FILE", bothModes.StandardError, StringComparison.Ordinal);
            Assert.StartsWith("error: approve --with-deps needs --env ENV", noEnv.StandardError, StringComparison.Ordinal);
            Assert.StartsWith("error: ", unknownEnv.StandardError, StringComparison.Ordinal);
            Assert.Contains("staging", unknownEnv.StandardError, StringComparison.Ordinal);
            Assert.Equal("error: unrecognized argument '--dryrun' (see --help)", typoFirst.StandardError.TrimEnd());
            Assert.Equal("error: unrecognized argument '--dryrun' (see --help)", typoLast.StandardError.TrimEnd());
            Assert.Equal(13, await proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync()));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
