using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Fixtures = CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Issue 11's proof with a real pip: a fake upstream serves real attested distributions with their real PEP 740 provenance
/// (pypi-attestations 0.0.19 and sigstore 3.6.1 from GitHub Actions, gitlab-oidc-project 0.0.3 from GitLab CI), the
/// publishers are vetted in policy, and the proxy's clock is the test's. Automatic vetting vets them once prod's 7-day
/// cooldown passed and not before, and pip gets them through <c>/prod/simple/</c> only then, with the pinned bytes. The next
/// release of pypi-attestations, without provenance, is held with the provenance-regression signal; sampleproject 3.0.0's
/// real provenance with one flipped byte is never accepted.
/// </summary>
/// <remarks>
/// The attested files are sdists, and pip builds an sdist's metadata even for <c>pip download</c>. Nothing may come from
/// another index, so the build backends come from the machine with <c>--no-build-isolation</c>: setuptools 65.5.0 (in every
/// Python 3.11 venv) with wheel 0.40.0 (a real wheel from Fixtures/dists) for pypi-attestations, which declares no backend
/// (the legacy setuptools one), and flit_core from Debian's <c>flit</c> package (test.sh installs it) for sigstore and
/// gitlab-oidc-project, put on the venv's path by a .pth file. With those pip really installs all three sdists (building
/// them), so the proof is <c>pip install --require-hashes</c> with the vetted pins plus <c>pip download</c> of the bytes.
/// </remarks>
[Trait("Category", "EndToEnd")]
public sealed class ProvenanceInstallTests
{
    private const string Python = "/root/.pyenv/versions/3.11.7/bin/python3.11";
    private const string FlitCore = "/usr/lib/python3/dist-packages/flit_core";

    // The day after the newest fixture was signed and uploaded (sigstore 3.6.1, 2024-12-19): the cooldown counts from first
    // sight here, and 0.0.20 follows 0.0.19 within weeks, as a real next release would (no dormant-revived signal).
    private static readonly DateTimeOffset Start = new(2024, 12, 20, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ProdCooldown = TimeSpan.FromDays(7);

    private const string Attestations19 = "pypi_attestations-0.0.19.tar.gz";
    private const string Attestations20 = "pypi_attestations-0.0.20.tar.gz";
    private const string Sigstore = "sigstore-3.6.1.tar.gz";
    private const string GitLab = "gitlab_oidc_project-0.0.3.tar.gz";
    private const string Tampered = "sampleproject-3.0.0.tar.gz";

    private static readonly string[] Requirements = ["pypi-attestations", "sigstore", "gitlab-oidc-project"];

    [Fact]
    public async Task AttestedSdists_VettedAutomaticallyOnlyAfterTheCooldown_PipGetsThePinnedBytes_RegressionHeld_FlippedByteNeverAccepted()
    {
        Assert.True(Directory.Exists(FlitCore), $"{FlitCore} is missing: install Debian's flit package (./test.sh does)");
        using var workspace = new EndToEndWorkspace();
        var clock = new FakeTimeProvider(Start);
        var upstream = await FakePyPI.StartAsync();
        await using var _ = upstream;
        var googleAccount = ServeFixtures(upstream);
        var policy = $$"""
            approve: [pypi-attestations, sigstore, gitlab-oidc-project, sampleproject]
            publishers:
              pypi-attestations:
                - { publisher: "github:trailofbits/pypi-attestations/.github/workflows/release.yml", from: 2024-12-01 }
              sigstore:
                - github:sigstore/sigstore-python/.github/workflows/release.yml
              gitlab-oidc-project:
                - gitlab:facutuesca/gitlab-oidc-project/.gitlab-ci.yml
              sampleproject:
                - "google:{{googleAccount}}"
            # Policy would vet any release from 0.0.20 on once past the cooldown, were it not for an anomaly signal.
            vet:
              pypi-attestations: ">=0.0.20"

            """;
        // prod is tier 3 with a 7-day cooldown (ProxyInstance's environments.yaml); every page read revalidates upstream.
        // Jobs are off, so no Hangfire worker races the test: it runs the AutoVetting job and the work the proxy queued itself.
        await using var proxy = await ProxyInstance.StartAsync(
            upstream.BaseUrl,
            settings: ApiTestKit.Settings(new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00", ["Review:RefreshInterval"] = "01:00:00" }),
            policyYaml: policy,
            configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var work = new QueuedWork(proxy);
        var venv = await CreateVenvAsync(workspace);

        // Inside the cooldown: every provenance verified (but sampleproject's), nothing vetted, pip finds nothing in prod.
        var first = await RunAutoVettingAsync(proxy);
        clock.Advance(ProdCooldown - TimeSpan.FromMinutes(1));
        var almost = await RunAutoVettingAsync(proxy);
        var early = await PipAsync(workspace, venv, "download", Index(proxy, "prod"), ["-d", workspace.PathOf("early"), .. Requirements]);

        var checkedEarly = await proxy.QueryAsync(db => db.FileProvenances.AsNoTracking().OrderBy(p => p.Filename).Select(p => p.Filename + " " + p.State).ToListAsync());

        Assert.Equal([$"{GitLab} verified", $"{Attestations19} verified", $"{Tampered} failed", $"{Sigstore} verified"], checkedEarly);
        Assert.Equal((0, 4), (first.Vetted, first.Waiting));
        Assert.Equal((0, 4), (almost.Vetted, almost.Waiting));
        foreach (var version in new[] { "pypi-attestations 0.0.19", "sigstore 3.6.1", "gitlab-oidc-project 0.0.3" })
        {
            Assert.Contains(almost.Reasons, r => r.StartsWith($"{version}: inside its cooldown of 7d until 2024-12-27 09:00 UTC", StringComparison.Ordinal));
        }

        Assert.Empty(await proxy.QueryAsync(db => db.ReleaseDecisions.ToListAsync()));
        Assert.True(early.ExitCode != 0, early.Describe());
        Assert.True(early.Output.Contains("No matching distribution found for pypi-attestations", StringComparison.Ordinal), early.Describe());
        Assert.True(early.Output.Contains("(from versions: none)", StringComparison.Ordinal), early.Describe());
        Assert.DoesNotContain("ERROR: Exception:", early.Output, StringComparison.Ordinal); // pip's words for a crash
        Assert.False(Directory.Exists(workspace.PathOf("early")) && Directory.EnumerateFiles(workspace.PathOf("early")).Any());

        // The cooldown passes: the job vets the three attested releases (actor auto) with the evidence in the audit record.
        clock.Advance(TimeSpan.FromMinutes(2));
        var passed = await RunAutoVettingAsync(proxy);
        var again = await RunAutoVettingAsync(proxy);
        var decisions = await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().Include(d => d.Files).OrderBy(d => d.Project).ToListAsync());

        Assert.Equal((3, 1), (passed.Vetted, passed.Waiting));
        Assert.Equal((0, 1), (again.Vetted, again.Waiting));
        Assert.Equal(["gitlab-oidc-project 0.0.3", "pypi-attestations 0.0.19", "sigstore 3.6.1"], decisions.Select(d => $"{d.Project} {d.Version}"));
        Assert.All(decisions, d => Assert.Equal(("vetted", "auto", "auto", false), (d.Verdict, d.How, d.Actor, d.BreakGlass)));
        foreach (var decision in decisions)
        {
            var pinned = Assert.Single(decision.Files);
            Assert.Equal(upstream.File(pinned.Filename).Sha256, pinned.Sha256);
        }

        var audit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.ReleaseVet).ToListAsync());
        Assert.Equal(3, audit.Count);
        Assert.All(audit, r => Assert.Equal("auto", r.Actor));
        Assert.Contains(audit, r => r.Subject == "release:pypi-attestations==0.0.19"
            && r.Reason.Contains("github:trailofbits/pypi-attestations/.github/workflows/release.yml for 1 file(s), rekor.sigstore.dev entries 153454663 (refs/tags/v0.0.19)", StringComparison.Ordinal));
        Assert.Contains(audit, r => r.Subject == "release:gitlab-oidc-project==0.0.3"
            && r.Reason.Contains("gitlab:facutuesca/gitlab-oidc-project/.gitlab-ci.yml for 1 file(s)", StringComparison.Ordinal));

        // Real pip now downloads and installs them through prod, with pip checking every file against the vetted pin.
        var pins = decisions.SelectMany(d => d.Files.Select(f => (d.Project, d.Version, f.Filename, f.Sha256))).ToList();
        var lockFile = workspace.PathOf("requirements.txt");
        File.WriteAllText(lockFile, string.Concat(pins.Select(p => $"{p.Project}=={p.Version} --hash=sha256:{p.Sha256}\n")));
        var download = await PipAsync(workspace, venv, "download", Index(proxy, "prod"), ["-d", workspace.PathOf("downloaded"), .. Requirements]);
        var install = await PipAsync(workspace, venv, "install", Index(proxy, "prod"), "--require-hashes", "-r", lockFile);

        Assert.True(download.ExitCode == 0, download.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(download, proxy, upstream);
        var downloaded = Directory.GetFiles(workspace.PathOf("downloaded")).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
        Assert.Equal(pins.Select(p => p.Filename).Order(StringComparer.Ordinal), downloaded.Keys.Order(StringComparer.Ordinal));
        Assert.All(pins, p => Assert.Equal(p.Sha256, downloaded[p.Filename]));
        Assert.True(install.ExitCode == 0, install.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(install, proxy, upstream);
        Assert.Equal(["gitlab-oidc-project==0.0.3", "pypi-attestations==0.0.19", "sigstore==3.6.1"], await InstalledAsync(workspace, venv, Requirements));

        // The next release of pypi-attestations comes without provenance. pip's request to prod is the first sight of it;
        // the provenance work that sight queued finds none where 0.0.19, vetted, had it verified: provenance-regression.
        clock.Advance(TimeSpan.FromDays(1));
        upstream.AddFile("pypi-attestations", Attestations20, PlainSdist("pypi-attestations", "pypi_attestations", "0.0.20"), Iso(clock.GetUtcNow()));
        var afterNewRelease = await PipAsync(workspace, venv, "download", Index(proxy, "prod"), "-d", workspace.PathOf("after-0.0.20"), "pypi-attestations");
        await work.RunDueAsync(clock.GetUtcNow());
        var regression = await SignalsAsync(proxy, "pypi-attestations", "0.0.20");

        Assert.True(afterNewRelease.ExitCode == 0, afterNewRelease.Describe());
        Assert.Equal([Attestations19], Directory.GetFiles(workspace.PathOf("after-0.0.20")).Select(Path.GetFileName));
        var signal = Assert.Single(regression);
        Assert.Equal("provenance-regression", signal.Kind);
        Assert.Contains($"have no provenance ({Attestations20}), where every file of 0.0.19, the previous vetted release, had verified provenance", signal.Evidence, StringComparison.Ordinal);

        // Past 0.0.20's cooldown: neither the scheduled run, the sweep nor the policy's vet: vets it (the signal stops the
        // policy), and pip keeps resolving to 0.0.19, while tier 2 (every release of an approved project) offers 0.0.20.
        clock.Advance(ProdCooldown + TimeSpan.FromDays(1));
        var scheduled = await work.RunDueAsync(clock.GetUtcNow());
        var later = await RunAutoVettingAsync(proxy);
        PolicyVettingSummary byPolicy;
        await using (var scope = proxy.Services.CreateAsyncScope())
        {
            byPolicy = await scope.ServiceProvider.GetRequiredService<PolicyVettingJob>().RunOnceAsync(CancellationToken.None);
        }

        var direct = await Tried(proxy, "pypi-attestations", "0.0.20");
        var held = await PipAsync(workspace, venv, "download", Index(proxy, "prod"), "-d", workspace.PathOf("held"), "pypi-attestations");
        var tier2 = await PipAsync(workspace, venv, "download", Index(proxy, "ci"), "-d", workspace.PathOf("tier2"), "pypi-attestations");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=pypi-attestations&version=0.0.20");

        Assert.Contains(scheduled, s => s == "AutoVettingWork pypi-attestations 0.0.20");
        Assert.Equal(0, later.Vetted);
        Assert.Equal((0, 1), (byPolicy.Vetted, byPolicy.Waiting));
        Assert.Contains("pypi-attestations 0.0.20: anomaly signals stop policy vetting: provenance-regression: ", byPolicy.FirstReasons, StringComparison.Ordinal);
        Assert.Equal(VetStatus.NotNow, direct.Status);
        Assert.Contains("provenance none", direct.Message, StringComparison.Ordinal);
        Assert.Null(await proxy.QueryAsync(db => db.ReleaseDecisions.FirstOrDefaultAsync(d => d.Project == "pypi-attestations" && d.Version == "0.0.20")));
        Assert.True(held.ExitCode == 0, held.Describe());
        Assert.Equal([Attestations19], Directory.GetFiles(workspace.PathOf("held")).Select(Path.GetFileName));
        Assert.True(tier2.ExitCode == 0, tier2.Describe());
        Assert.Equal([Attestations20], Directory.GetFiles(workspace.PathOf("tier2")).Select(Path.GetFileName));
        Assert.False(explain["visible"]!.GetValue<bool>());

        // sampleproject 3.0.0's real provenance with one byte of its DSSE signature flipped: never accepted, at any time.
        var tamperedSignals = await SignalsAsync(proxy, "sampleproject", "3.0.0");
        var stored = Assert.Single(await proxy.QueryAsync(db => db.FileProvenances.AsNoTracking().Where(p => p.Filename == Tampered).ToListAsync()));
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.ProvenanceFailed).ToListAsync()));
        var alert = Assert.Single(await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertProvenanceFailed).ToListAsync()));

        Assert.Equal("failed", stored.State);
        Assert.Contains("attestation 0: DSSE signature does not verify", stored.Failure, StringComparison.Ordinal);
        Assert.Contains(later.Reasons, r => r.StartsWith($"sampleproject 3.0.0: '{Tampered}': provenance failed ({stored.Failure})", StringComparison.Ordinal));
        Assert.Null(await proxy.QueryAsync(db => db.ReleaseDecisions.FirstOrDefaultAsync(d => d.Project == "sampleproject")));
        Assert.Equal((IncidentSeverity.High, Tampered), (incident.Severity, incident.Filename));
        Assert.Contains(stored.Failure!, incident.Detail, StringComparison.Ordinal);
        Assert.Equal("release:sampleproject==3.0.0", alert.Subject);
        Assert.Contains(tamperedSignals, s => s.Kind == "provenance-failed" && s.Evidence.Contains(stored.Failure!, StringComparison.Ordinal));

        // Even when a reviewer vets the release by hand (a human may, despite the signal), tier 3 never serves the document.
        var provenanceUrl = $"prod/integrity/sampleproject/3.0.0/{Tampered}/provenance";
        using var hidden = await proxy.Client.GetAsync(provenanceUrl);
        var byHand = await proxy.PostJsonAsync("api/v1/projects/sampleproject/releases/3.0.0/vet", new { reason = "read the sdist line by line" });
        using var refused = await proxy.Client.GetAsync(provenanceUrl);
        var refusal = await refused.Content.ReadAsStringAsync();
        using var genuine = await proxy.Client.GetAsync($"prod/integrity/pypi-attestations/0.0.19/{Attestations19}/provenance");

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("vetted", byHand["verdict"].Text());
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains($"No verified provenance for {Tampered}: failed ({stored.Failure})", JsonNode.Parse(refusal)!["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        Assert.Equal(ReadProvenance(Attestations19), await genuine.Content.ReadAsByteArrayAsync());
    }

    /// <summary>
    /// Lists the attested sdists with their real provenance and upload times after they were signed, and sampleproject 3.0.0
    /// with its Google-signed attestation wrapped under the publisher its certificate proves, one signature byte flipped.
    /// Returns that Google service account.
    /// </summary>
    private static string ServeFixtures(FakePyPI upstream)
    {
        upstream.AddFile("pypi-attestations", Attestations19, Fixtures.Read(Attestations19), "2024-12-04T23:14:30.000000Z").Provenance = Fixtures.Text(Attestations19 + ".provenance");
        upstream.AddFile("sigstore", Sigstore, Fixtures.Read(Sigstore), "2024-12-19T17:10:20.000000Z").Provenance = Fixtures.Text(Sigstore + ".provenance");
        var gitlab = Fixtures.LoadJson(GitLab + ".publish.attestation");
        upstream.AddFile("gitlab-oidc-project", GitLab, Fixtures.Read(GitLab), "2024-11-19T17:37:30.000000Z").Provenance =
            Encoding.UTF8.GetString(Fixtures.Wrap(gitlab, Fixtures.PublisherProvenBy(gitlab)));

        var google = Fixtures.LoadJson(Tampered + ".publish.attestation");
        var publisher = Fixtures.PublisherProvenBy(google);
        var honest = Fixtures.Wrap(google, (JsonObject)publisher.DeepClone());
        // One letter in the middle of the DSSE signature's base64 changed (still base64: another signature, not a parse
        // error); letters are never escaped in JSON, so the served document differs from the real one in that one byte.
        var signature = google["envelope"]!["signature"].Text().ToCharArray();
        var at = Array.FindIndex(signature, signature.Length / 2, char.IsAsciiLetter);
        signature[at] = signature[at] == 'A' ? 'B' : 'A';
        var tampered = google.DeepClone();
        tampered["envelope"]!["signature"] = new string(signature);
        var document = Fixtures.Wrap(tampered, publisher);
        Assert.Equal(honest.Length, document.Length);
        Assert.Equal(1, honest.Zip(document).Count(pair => pair.First != pair.Second));
        upstream.AddFile("sampleproject", Tampered, Fixtures.Read(Tampered), "2024-10-01T00:00:00.000000Z").Provenance = Encoding.UTF8.GetString(document);
        return publisher["email"].Text();
    }

    private static byte[] ReadProvenance(string filename) => Fixtures.Read(filename + ".provenance");

    /// <summary>A Python 3.11 venv (pip 23.2.1, setuptools 65.5.0) with wheel 0.40.0 and flit_core: the sdists' build backends.</summary>
    private static async Task<string> CreateVenvAsync(EndToEndWorkspace workspace)
    {
        var venv = workspace.PathOf("venv");
        (await workspace.RunAsync(Python, "-m", "venv", venv)).EnsureSuccess();
        var python = Path.Combine(venv, "bin", "python");
        (await workspace.RunAsync(python, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", FakePyPI.FixturePath("dists", "wheel-0.40.0-py3-none-any.whl"))).EnsureSuccess();
        var backends = Directory.CreateDirectory(workspace.PathOf("backends")).FullName;
        CopyDirectory(FlitCore, Path.Combine(backends, "flit_core"));
        File.WriteAllText(Path.Combine(venv, "lib", "python3.11", "site-packages", "build-backends.pth"), backends + "\n");
        var check = await workspace.RunAsync(python, "-c", "import flit_core.buildapi, setuptools.build_meta, wheel; print('ok')");
        Assert.True(check.ExitCode == 0 && check.StandardOutput.Trim() == "ok", check.Describe());
        return python;
    }

    private static Task<ProcessResult> PipAsync(EndToEndWorkspace workspace, string python, string command, string index, params string[] arguments) =>
        workspace.RunAsync(
            python,
            [
                "-m", "pip", command, "-vv", "--no-deps", "--no-build-isolation", "--no-binary", ":all:",
                "--no-cache-dir", "--disable-pip-version-check", "--index-url", index,
                .. arguments,
            ]);

    private static string Index(ProxyInstance proxy, string environment) => new Uri(proxy.BaseUrl, $"{environment}/simple/").ToString();

    private static async Task<List<string>> InstalledAsync(EndToEndWorkspace workspace, string python, string[] projects)
    {
        var list = (await workspace.RunAsync(python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check")).EnsureSuccess();
        return JsonNode.Parse(list.StandardOutput)!.AsArray()
            .Select(d => (Name: CuratedIndex.Protocol.ProjectName.Normalize(d!["name"].Text()), Version: d["version"].Text()))
            .Where(d => projects.Contains(d.Name))
            .Select(d => $"{d.Name}=={d.Version}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static async Task<AutoVettingSummary> RunAutoVettingAsync(ProxyInstance proxy)
    {
        await using var scope = proxy.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AutoVettingJob>().RunOnceAsync(CancellationToken.None);
    }

    private static Task<VetOutcome> Tried(ProxyInstance proxy, string project, string version) =>
        proxy.Services.GetRequiredService<AutoVetting>().TryVetAsync(project, version, CancellationToken.None);

    private static Task<List<ReleaseSignal>> SignalsAsync(ProxyInstance proxy, string project, string version) =>
        proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().Where(s => s.Project == project && s.Version == version).OrderBy(s => s.Id).ToListAsync());

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A small valid setuptools sdist: what a maintainer uploading by hand, without trusted publishing, would upload.</summary>
    private static byte[] PlainSdist(string name, string package, string version)
    {
        var root = $"{package}-{version}";
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PKG-INFO"] = $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            ["pyproject.toml"] = $"[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"{version}\"\n\n[tool.setuptools]\npackages = [\"{package}\"]\n",
            [$"{package}/__init__.py"] = $"__version__ = \"{version}\"\n",
            // About the size of the real release (no size-changed signal): random text, which compresses little.
            ["README.md"] = Convert.ToBase64String(RandomBytes(new Random(20), 40 * 1024)),
        };
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, text) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{root}/{path}")
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
            }
        }

        return buffer.ToArray();
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) != "__pycache__"))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    /// <summary>
    /// The work the proxy queued in Hangfire's storage (provenance checks on first sight, automatic vetting scheduled for
    /// the end of a cooldown), performed as a worker would: the stored arguments, a fresh scope. The proxy runs with
    /// Jobs:Enabled=false, so no worker takes it first, and a scheduled run is due by the test's clock, not the machine's.
    /// </summary>
    private sealed class QueuedWork(ProxyInstance proxy)
    {
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);

        /// <summary>Runs each queued or due piece of work once; what ran, as "WorkType args".</summary>
        public async Task<List<string>> RunDueAsync(DateTimeOffset now)
        {
            var monitor = proxy.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
            var jobs = monitor.EnqueuedJobs("default", 0, 1000).Select(j => (j.Key, j.Value.Job))
                .Concat(monitor.ScheduledJobs(0, 1000).Where(j => j.Value.EnqueueAt <= now.UtcDateTime).Select(j => (j.Key, j.Value.Job)))
                .Where(j => _done.Add(j.Key))
                .ToList();
            var ran = new List<string>();
            foreach (var (id, job) in jobs)
            {
                await using var scope = proxy.Services.CreateAsyncScope();
                var context = new JobRunContext($"test-{id}", "queue");
                switch (job.Args[0])
                {
                    case ProvenanceWorkArgs args:
                        await scope.ServiceProvider.GetRequiredService<ProvenanceWork>().RunAsync(args, context, CancellationToken.None);
                        ran.Add($"ProvenanceWork {args.Project} {string.Join(",", args.Versions)}");
                        break;
                    case ReleaseWorkArgs args:
                        await scope.ServiceProvider.GetRequiredService<AutoVettingWork>().RunAsync(args, context, CancellationToken.None);
                        ran.Add($"AutoVettingWork {args.Project} {args.Version}");
                        break;
                }
            }

            return ran;
        }
    }
}
