using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CuratedIndex.Hosting;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// docker/compose.yaml and docker/Dockerfile, checked without a Docker engine: every key the compose file sets is one the
/// application documents, the nodes share one database and one bucket and start in order, and the image runs the
/// executable the README documents, as a non-root user, with a health check, from what <c>dotnet publish</c> produces.
/// </summary>
public sealed class DockerPackagingTests
{
    private static readonly string Repository = AuditIntegrationTests.RepositoryRoot();
    private static readonly string ComposeDirectory = Path.Combine(Repository, "docker");
    private static readonly string DockerfilePath = Path.Combine(Repository, "docker", "Dockerfile");

    [Fact]
    public void Compose_EveryCuratedIndexVariable_IsAKeyOfAppsettingsExample()
    {
        var services = CuratedIndexServices();
        var problems = DockerPackaging.UnknownKeys(services, ExampleJson()).ToList();

        Assert.True(problems.Count == 0, $"docker/compose.yaml sets keys appsettings.example.json does not document:\n{string.Join('\n', problems)}");
        // The profile's keys are there to be checked (a compose file setting nothing would pass the loop above).
        string[] profile =
        [
            .. DockerPackaging.SharedKeys, "Database__MigrateOnStartup", "Storage__S3__AccessKey", "Storage__S3__SecretKey",
            "Auth__BootstrapAdminToken", "Upstream__Url", "Server__PublicUrl",
        ];
        foreach (var node in DockerPackaging.Nodes(services))
        {
            var missing = profile.Where(k => !node.Environment.ContainsKey(k)).ToList();
            Assert.True(missing.Count == 0, $"node '{node.Name}' does not set {string.Join(", ", missing)}");
        }
    }

    [Fact]
    public void Compose_Nodes_ShareOneDatabaseAndOneBucket()
    {
        var services = CuratedIndexServices();
        var nodes = DockerPackaging.Nodes(services);
        var problems = DockerPackaging.SharingProblems(nodes).ToList();

        Assert.True(problems.Count == 0, $"docker/compose.yaml's nodes are not one cluster:\n{string.Join('\n', problems)}");
        // The one-shot migration works on the database the nodes use.
        foreach (var migrate in services.Where(s => s.Command.Count > 0 && s.Command[0] == "migrate"))
        {
            Assert.True(
                migrate.Environment.GetValueOrDefault("ConnectionStrings__CuratedIndex") == nodes[0].Environment["ConnectionStrings__CuratedIndex"],
                $"service '{migrate.Name}' migrates another database than the nodes use: {migrate.Environment.GetValueOrDefault("ConnectionStrings__CuratedIndex")}");
        }

        // The database and the bucket are services of this file, not somewhere else.
        var names = DockerPackaging.ParseCompose(File.ReadAllText(ComposePath())).Select(s => s.Name).ToHashSet();
        var host = Regex.Match(nodes[0].Environment["ConnectionStrings__CuratedIndex"]!, @"(?:^|;)\s*Host\s*=\s*(?<host>[^;]+)", RegexOptions.IgnoreCase).Groups["host"].Value;
        Assert.True(names.Contains(host), $"ConnectionStrings__CuratedIndex names Host={host}, which is no service of docker/compose.yaml ({string.Join(", ", names)})");
        var s3Host = new Uri(nodes[0].Environment["Storage__S3__ServiceUrl"]!).Host;
        Assert.True(names.Contains(s3Host), $"Storage__S3__ServiceUrl names {s3Host}, which is no service of docker/compose.yaml ({string.Join(", ", names)})");
    }

    [Fact]
    public void Compose_Nodes_HaveAHealthCheckAndWaitForPostgresTheBucketAndTheMigration()
    {
        var all = DockerPackaging.ParseCompose(File.ReadAllText(ComposePath()));
        var nodes = DockerPackaging.Nodes(CuratedIndexServices());
        var imageHasHealthcheck = Dockerfile.Parse(File.ReadAllText(DockerfilePath)).Runtime.Last("HEALTHCHECK") is not null;

        var problems = DockerPackaging.StartupProblems(all, nodes, imageHasHealthcheck).ToList();

        Assert.True(problems.Count == 0, $"docker/compose.yaml's nodes do not start in order or are not watched:\n{string.Join('\n', problems)}");
    }

    /// <summary>The checkers on a broken compose file: each mistake is named, nothing else is.</summary>
    [Fact]
    public void Checkers_BrokenCompose_ReportEachMistake()
    {
        const string compose = """
            x-env: &env
              Database__Provider: Postgres
              ConnectionStrings__CuratedIndex: Host=db;Database=ci
              Storage__Provider: S3
              Storage__S3__ServiceUrl: http://minio:9000
            services:
              db: { image: "postgres:17" }
              init: { image: "minio/mc:latest" }
              a:
                build: { context: .., dockerfile: docker/Dockerfile }
                image: ci:test
                environment:
                  <<: *env
                  Storage__S3__Bucket: one
                  Storage__S3__Bucketname: typo
                  Upstream__Ur: https://pypi.org/
                  Storage__S3: section
                  Upstream__FileHosts: a-list
                  Upstream__FileHosts__0: files.example.org
                  Upstream__FileHosts__first: not-an-index
                  Upstream__Url__Path: below-a-value
                  Server__KnownProxies__0: 10.0.0.5
                  urls: http://+:8080
                  OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4317
                  DOTNET_gcServer: "0"
                depends_on:
                  db: { condition: service_healthy }
                  init: { condition: service_completed_successfully }
              b:
                image: ci:test
                environment:
                  - Database__Provider=Postgres
                  - ConnectionStrings__CuratedIndex=Host=db;Database=ci
                  - Storage__Provider=FileSystem
                  - Storage__S3__ServiceUrl=http://minio:9000
                  - Storage__S3__Bucket=two
                  - Database__MigrateOnStartup=true
                depends_on: [db]
                healthcheck: { disable: true }
            """;
        var all = DockerPackaging.ParseCompose(compose);
        var services = DockerPackaging.CuratedIndexServices(all, "/repo/docker", "/repo/docker/Dockerfile");
        Assert.Equal(["a", "b"], services.Select(s => s.Name));

        var unknown = DockerPackaging.UnknownKeys(services, ExampleJson()).ToList();
        // A misspelled key also lists the section's keys (which other work extends: compared without that list).
        Assert.Contains("(Storage:S3 has: ServiceUrl, Bucket, AccessKey, SecretKey", unknown[0], StringComparison.Ordinal);
        Assert.Equal(
            [
                "service 'a' sets Storage__S3__Bucketname, but appsettings.example.json has no key Storage:S3:Bucketname",
                "service 'a' sets Upstream__Ur, but appsettings.example.json has no key Upstream:Ur",
                "service 'a' sets Storage__S3, but Storage:S3 is a section of appsettings.example.json, not a key",
                "service 'a' sets Upstream__FileHosts, but Upstream:FileHosts is a list in appsettings.example.json: set its items as Upstream:FileHosts:0, Upstream:FileHosts:1, …",
                "service 'a' sets Upstream__FileHosts__first, but Upstream:FileHosts is a list in appsettings.example.json: its items are Upstream:FileHosts:0, Upstream:FileHosts:1, …, not Upstream:FileHosts:first",
                "service 'a' sets Upstream__Url__Path, but Upstream:Url is a value in appsettings.example.json: Upstream:Url:Path is below it",
            ],
            unknown.Select(p => Regex.Replace(p, @" \([^()]* has: [^()]*\)$", "")));

        var sharing = DockerPackaging.SharingProblems(DockerPackaging.Nodes(services)).ToList();
        Assert.Equal(
            [
                "the nodes set different Storage__Provider: a=S3; b=FileSystem",
                "the nodes set different Storage__S3__Bucket: a=one; b=two",
                "node 'b' sets Storage__Provider=FileSystem: several nodes need S3",
            ],
            sharing);

        var startup = DockerPackaging.StartupProblems(all, DockerPackaging.Nodes(services), imageHasHealthcheck: false).ToList();
        Assert.Equal(
            [
                "node 'a' has no health check: none of its own and the Dockerfile has no HEALTHCHECK",
                "node 'a' does not migrate on startup (Database__MigrateOnStartup is not true) and does not wait for a service running `migrate` with condition service_completed_successfully",
                "node 'b' has no health check: its healthcheck is disabled",
                "node 'b' does not wait for PostgreSQL (db) with condition service_healthy",
                "node 'b' does not wait for the bucket initializer (init) with condition service_completed_successfully",
            ],
            startup);
        Assert.Equal(["the profile needs two CuratedIndex nodes; the compose file has 1 (a)"], DockerPackaging.SharingProblems(DockerPackaging.Nodes(services).Take(1).ToList()));
    }

    [Fact]
    public void Dockerfile_EntryPoint_IsTheExecutableTheReadmeDocuments()
    {
        var executable = DocumentedExecutable();
        var problems = DockerPackaging.ImageProblems(Dockerfile.Parse(File.ReadAllText(DockerfilePath)), executable, Verbs()).ToList();

        Assert.True(problems.Count == 0, $"docker/Dockerfile:\n{string.Join('\n', problems)}");
        // Every verb the image and the compose file run is a row of the README's command table.
        var table = CommandLineSection();
        foreach (var verb in new[] { "serve", "migrate", "healthcheck" })
        {
            Assert.True(Regex.IsMatch(table, $@"^\| `{verb}\b", RegexOptions.Multiline), $"README.md's \"## Command line\" table has no row for `{verb}`, which docker/Dockerfile or docker/compose.yaml runs");
        }
    }

    /// <summary>The image checker on a broken Dockerfile: a single stage run as root through dotnet, without a health check.</summary>
    [Fact]
    public void Checkers_BrokenDockerfile_ReportEachMistake()
    {
        const string text = """
            # syntax=docker/dockerfile:1
            FROM mcr.microsoft.com/dotnet/sdk:10.0
            WORKDIR /app
            COPY . .
            RUN dotnet publish src/CuratedIndex -o /app/out \
                -c Release
            USER root
            EXPOSE 80
            ENTRYPOINT ["dotnet", "/app/out/curated-index.dll"]
            CMD ["run"]
            """;

        var problems = DockerPackaging.ImageProblems(Dockerfile.Parse(text), "curated-index", Verbs()).ToList();

        Assert.Equal(
            [
                "the runtime (last) stage is FROM mcr.microsoft.com/dotnet/sdk:10.0, not a separate stage FROM mcr.microsoft.com/dotnet/aspnet:10.0",
                "the runtime stage's last USER is root: the server would run as root",
                """the ENTRYPOINT is ["dotnet", "/app/out/curated-index.dll"]: it must run the executable 'curated-index' by its absolute path, in exec form ["/…/curated-index"]""",
                $"the CMD [\"run\"] is not an exec-form command of curated-index ({string.Join(", ", Verbs().Order())})",
                "the runtime stage does not set ENV Urls=http://+:PORT: appsettings.json listens on localhost only, which nothing outside the container reaches",
                "the runtime stage has no HEALTHCHECK",
            ],
            problems);
        // Comments dropped, continuation lines joined into one instruction.
        var run = Dockerfile.Parse(text).Stages[0].Instructions[2];
        Assert.Equal("RUN", run.Keyword);
        Assert.Matches(@"^dotnet publish src/CuratedIndex -o /app/out\s+-c Release$", run.Arguments);
    }

    /// <summary>
    /// The runtime stage copies the build stage's <c>dotnet publish -o</c> directory; a real publish of the project (from
    /// this build, --no-build) holds the entry point's executable and the config/ files the defaults name, under the
    /// working directory that is the content root; policies/ is copied beside them; data/ belongs to the USER.
    /// </summary>
    [Fact]
    public async Task Dockerfile_RuntimeStage_CopiesTheLayoutDotnetPublishProduces()
    {
        var dockerfile = Dockerfile.Parse(File.ReadAllText(DockerfilePath));
        var build = dockerfile.Stages[0];
        var runtime = dockerfile.Runtime;
        var publish = build.All("RUN").Select(r => Regex.Match(r.Arguments, @"dotnet publish .*(?:-o|--output)\s+(?<out>\S+)")).FirstOrDefault(m => m.Success);
        Assert.True(publish is not null, $"the build stage ({build.Name}) has no RUN dotnet publish … -o DIR");
        var output = publish.Groups["out"].Value.TrimEnd('/');
        var copy = runtime.All("COPY").Select(c => c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(w => w[0] == $"--from={build.Name}");
        Assert.NotNull(copy);
        Assert.True(copy is { Length: 3 } && copy[1].TrimEnd('/') == output, $"the runtime stage does not COPY --from={build.Name} {output}/ DIR: {string.Join(' ', copy)}");
        var application = copy[2].TrimEnd('/');
        var workdir = runtime.Last("WORKDIR")?.Arguments.TrimEnd('/');
        Assert.True(workdir == application, $"the runtime WORKDIR ({workdir}) is not where the published output is ({application}): the content root must hold config/ and policies/");

        // The build stage's sources are in the repository: a COPY of a missing path fails the build.
        foreach (var source in build.All("COPY").SelectMany(c => c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).Where(s => !s.StartsWith("--", StringComparison.Ordinal)))
        {
            Assert.True(File.Exists(Path.Combine(Repository, source)) || Directory.Exists(Path.Combine(Repository, source)), $"the build stage copies {source}, which the repository does not have");
        }

        var published = Directory.CreateTempSubdirectory("curated-index-publish-").FullName;
        try
        {
            var result = await ExternalProcess.RunAsync(
                Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
                ["publish", Path.Combine(Repository, "src", "CuratedIndex", "CuratedIndex.csproj"), "-c", BuildConfiguration(), "--no-build", "-o", published, "--nologo"],
                Repository,
                null,
                TimeSpan.FromMinutes(3));
            Assert.True(result.ExitCode == 0, result.Describe());

            var entrypoint = Dockerfile.ExecForm(runtime.Last("ENTRYPOINT")!.Arguments)![0];
            Assert.True(entrypoint.StartsWith(application + "/", StringComparison.Ordinal), $"the ENTRYPOINT {entrypoint} is not in {application}, where the published output is copied");
            var executable = Path.Combine(published, entrypoint[(application.Length + 1)..]);
            Assert.True(File.Exists(executable), $"dotnet publish does not produce {entrypoint[(application.Length + 1)..]}, which the ENTRYPOINT runs: {string.Join(", ", Directory.GetFiles(published).Select(Path.GetFileName).Where(f => f!.StartsWith("curated", StringComparison.Ordinal)))}");
            if (!OperatingSystem.IsWindows())
            {
                Assert.True(File.GetUnixFileMode(executable).HasFlag(UnixFileMode.OtherExecute), $"{entrypoint} is not executable by the non-root USER ({File.GetUnixFileMode(executable)})");
            }

            // The default paths relative to the content root, as appsettings.example.json documents them.
            using var example = JsonDocument.Parse(ExampleJson(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            string[] files =
            [
                example.RootElement.GetProperty("Provenance").GetProperty("TrustedRootPath").GetString()!,
                example.RootElement.GetProperty("Typosquat").GetProperty("CorpusPath").GetString()!,
                "config/reverseproxy.json",
                "appsettings.json",
            ];
            foreach (var file in files)
            {
                Assert.True(File.Exists(Path.Combine(published, file)), $"dotnet publish does not produce {file}, which the server reads from its content root {workdir}");
            }

            var policies = example.RootElement.GetProperty("Policies").GetProperty("Path").GetString()!;
            Assert.True(
                runtime.All("COPY").Any(c => c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var from, var to] && from.TrimEnd('/') == policies && to.TrimEnd('/') == $"{workdir}/{policies}"),
                $"the runtime stage does not COPY {policies}/ {workdir}/{policies}/ (Policies:Path is relative to the content root)");
            Assert.True(Directory.GetFiles(Path.Combine(Repository, policies), "*.yaml").Length > 0, $"the repository's {policies}/ has no policy file to ship");

            var user = runtime.Last("USER")!.Arguments;
            Assert.True(
                runtime.All("RUN").Any(r => r.Arguments.Contains($"chown {user} {workdir}/data", StringComparison.Ordinal)),
                $"no RUN in the runtime stage makes {workdir}/data (the relative data paths' directory) belong to USER {user}: chown {user} {workdir}/data");
        }
        finally
        {
            Directory.Delete(published, recursive: true);
        }
    }

    [Fact]
    public void Dockerignore_KeepsLocalBuildOutputAndSecretsOutOfTheContext()
    {
        var path = Path.Combine(ComposeDirectory, "Dockerfile.dockerignore");
        Assert.True(File.Exists(path), "docker/Dockerfile.dockerignore is missing: the build context (the repository) would carry bin/, obj/ and data/");
        var patterns = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", "data/", "docker/.env" })
        {
            Assert.True(patterns.Contains(pattern), $"docker/Dockerfile.dockerignore does not exclude {pattern}");
        }
    }

    private static string ComposePath() => Path.Combine(ComposeDirectory, "compose.yaml");

    private static string ExampleJson() => File.ReadAllText(Path.Combine(Repository, "appsettings.example.json"));

    private static IReadOnlyList<DockerPackaging.Service> CuratedIndexServices()
    {
        var services = DockerPackaging.CuratedIndexServices(DockerPackaging.ParseCompose(File.ReadAllText(ComposePath())), ComposeDirectory, DockerfilePath);
        Assert.True(services.Count > 0, "no service of docker/compose.yaml is built from docker/Dockerfile (build: context .., dockerfile docker/Dockerfile)");
        return services;
    }

    private static HashSet<string> Verbs() => CommandLine.Create().Subcommands.Select(c => c.Name).ToHashSet();

    private static string CommandLineSection()
    {
        var readme = File.ReadAllText(Path.Combine(Repository, "README.md"));
        var match = Regex.Match(readme, @"^## Command line\n(?<section>.*?)(?=^## )", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(match.Success, "README.md has no \"## Command line\" section");
        return match.Groups["section"].Value;
    }

    /// <summary>The executable the README's command line section documents, which must be the project's AssemblyName.</summary>
    private static string DocumentedExecutable()
    {
        var documented = Regex.Match(CommandLineSection(), @"`(?<name>[a-z0-9-]+)` is the server executable");
        Assert.True(documented.Success, "README.md's \"## Command line\" section does not say \"`NAME` is the server executable\"");
        var assemblyName = XDocument.Load(Path.Combine(Repository, "src", "CuratedIndex", "CuratedIndex.csproj")).Descendants("AssemblyName").Single().Value;
        Assert.True(
            documented.Groups["name"].Value == assemblyName,
            $"README.md documents the executable `{documented.Groups["name"].Value}`, but src/CuratedIndex/CuratedIndex.csproj's AssemblyName is {assemblyName}");
        return assemblyName;
    }

    private static string BuildConfiguration() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
}
