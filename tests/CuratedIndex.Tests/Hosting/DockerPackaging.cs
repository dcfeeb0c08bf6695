using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// Reads docker/compose.yaml and docker/Dockerfile as Docker would (no engine here) and says what is wrong with them,
/// one sentence per problem. Pure functions over text, so that a test can also feed them a broken file.
/// </summary>
internal static class DockerPackaging
{
    /// <summary>Variables of a CuratedIndex container that are not configuration keys: the runtime's, ASP.NET Core's, OpenTelemetry's.</summary>
    private static readonly string[] NotConfigurationPrefixes = ["OTEL_", "ASPNETCORE_", "DOTNET_"];

    /// <summary>The configuration keys that must be equal on every node: one database, one bucket.</summary>
    internal static readonly string[] SharedKeys =
        ["Database__Provider", "ConnectionStrings__CuratedIndex", "Storage__Provider", "Storage__S3__ServiceUrl", "Storage__S3__Bucket"];

    /// <summary>A compose service: its name, the parsed mapping (merge keys resolved) and its environment.</summary>
    internal sealed record Service(string Name, IReadOnlyDictionary<object, object?> Body, IReadOnlyDictionary<string, string?> Environment)
    {
        public string? Image => Body.TryGetValue("image", out var image) ? image as string : null;

        /// <summary>The full path of the Dockerfile the service is built from, or null when it is not built.</summary>
        public string? DockerfilePath(string composeDirectory) => Body.TryGetValue("build", out var build) switch
        {
            false => null,
            _ when build is string context => Path.GetFullPath(Path.Combine(composeDirectory, context, "Dockerfile")),
            _ when build is Dictionary<object, object?> b => Path.GetFullPath(Path.Combine(
                composeDirectory, b.GetValueOrDefault("context") as string ?? ".", b.GetValueOrDefault("dockerfile") as string ?? "Dockerfile")),
            _ => null,
        };

        /// <summary>The command's words (empty: the image's CMD).</summary>
        public IReadOnlyList<string> Command => Body.TryGetValue("command", out var command) ? command switch
        {
            string s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            IEnumerable<object?> list => list.Select(x => x?.ToString() ?? "").ToList(),
            _ => [],
        } : [];

        public IReadOnlyDictionary<object, object?>? Healthcheck => Body.GetValueOrDefault("healthcheck") as Dictionary<object, object?>;

        /// <summary>depends_on as service name → condition (the short list form means service_started).</summary>
        public IReadOnlyDictionary<string, string> DependsOn => Body.TryGetValue("depends_on", out var d) ? d switch
        {
            IEnumerable<KeyValuePair<object, object?>> map => map.ToDictionary(
                kv => (string)kv.Key,
                kv => kv.Value is IDictionary<object, object?> o && o.TryGetValue("condition", out var c) ? (string)c! : "service_started"),
            IEnumerable<object?> list => list.ToDictionary(x => (string)x!, _ => "service_started"),
            _ => new Dictionary<string, string>(),
        } : new Dictionary<string, string>();
    }

    /// <summary>The services of a compose file, with YAML merge keys (<c>&lt;&lt;: *anchor</c>) resolved as compose does.</summary>
    public static IReadOnlyList<Service> ParseCompose(string yaml)
    {
        var root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(new MergingParser(new Parser(new StringReader(yaml))))
            ?? throw new InvalidDataException("the compose file is empty");
        if (!root.TryGetValue("services", out var services) || services is not Dictionary<object, object?> map)
        {
            throw new InvalidDataException("the compose file has no 'services' mapping");
        }

        return map.Select(kv =>
        {
            var body = kv.Value as Dictionary<object, object?> ?? new Dictionary<object, object?>();
            return new Service((string)kv.Key, body, EnvironmentOf(body));
        }).ToList();
    }

    /// <summary>
    /// The services that run CuratedIndex: built from <paramref name="dockerfile"/> (a full path; build contexts are relative
    /// to <paramref name="composeDirectory"/>) or using the image such a service builds.
    /// </summary>
    public static IReadOnlyList<Service> CuratedIndexServices(IReadOnlyList<Service> services, string composeDirectory, string dockerfile)
    {
        var built = services.Where(s => s.DockerfilePath(composeDirectory) == Path.GetFullPath(dockerfile)).ToList();
        var images = built.Select(s => s.Image).OfType<string>().ToHashSet();
        return services.Where(s => built.Contains(s) || (s.Image is { } image && images.Contains(image))).ToList();
    }

    /// <summary>The CuratedIndex services that serve: no command (the image's CMD, serve) or <c>serve</c>.</summary>
    public static IReadOnlyList<Service> Nodes(IReadOnlyList<Service> curatedIndexServices) =>
        curatedIndexServices.Where(s => s.Command.Count == 0 || s.Command[0] == "serve").ToList();

    /// <summary>
    /// Each variable a CuratedIndex service sets that is not a key appsettings.example.json documents
    /// (<c>Section__Key</c> is <c>Section:Key</c>; a number is an index into a list).
    /// </summary>
    public static IEnumerable<string> UnknownKeys(IReadOnlyList<Service> curatedIndexServices, string exampleJson)
    {
        using var example = JsonDocument.Parse(exampleJson, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        foreach (var service in curatedIndexServices)
        {
            foreach (var variable in service.Environment.Keys)
            {
                if (NotConfigurationPrefixes.Any(p => variable.StartsWith(p, StringComparison.Ordinal)))
                {
                    continue;
                }

                if (KeyProblem(example.RootElement, variable) is { } problem)
                {
                    yield return $"service '{service.Name}' sets {variable}, but {problem}";
                }
            }
        }
    }

    /// <summary>Why <paramref name="variable"/> is not a documented key, or null when it is one.</summary>
    internal static string? KeyProblem(JsonElement root, string variable)
    {
        var segments = variable.Split("__");
        var key = string.Join(':', segments);
        var element = root;
        for (var i = 0; i < segments.Length; i++)
        {
            var at = string.Join(':', segments[..i]);
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var property = element.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, segments[i], StringComparison.OrdinalIgnoreCase));
                    if (property.Value.ValueKind == JsonValueKind.Undefined)
                    {
                        var known = string.Join(", ", element.EnumerateObject().Select(p => p.Name));
                        return $"appsettings.example.json has no key {key} ({(at.Length == 0 ? "the top level" : at)} has: {known})";
                    }

                    element = property.Value;
                    break;
                case JsonValueKind.Array:
                    if (!uint.TryParse(segments[i], out _))
                    {
                        return $"{at} is a list in appsettings.example.json: its items are {at}:0, {at}:1, …, not {key}";
                    }

                    // Items of a documented list are keys, whether or not the example lists any.
                    if (element.GetArrayLength() == 0 || element[0].ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
                    {
                        return i == segments.Length - 1 ? null : $"{string.Join(':', segments[..(i + 1)])} is a value in appsettings.example.json: {key} is below it";
                    }

                    element = element[0];
                    break;
                default:
                    return $"{at} is a value in appsettings.example.json: {key} is below it";
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.Object => $"{key} is a section of appsettings.example.json, not a key",
            JsonValueKind.Array => $"{key} is a list in appsettings.example.json: set its items as {key}:0, {key}:1, …",
            _ => null,
        };
    }

    /// <summary>What keeps the nodes from being one cluster: fewer than two, or a shared key missing or different on one.</summary>
    public static IEnumerable<string> SharingProblems(IReadOnlyList<Service> nodes)
    {
        if (nodes.Count < 2)
        {
            yield return $"the profile needs two CuratedIndex nodes; the compose file has {nodes.Count} ({string.Join(", ", nodes.Select(n => n.Name))})";
            yield break;
        }

        foreach (var key in SharedKeys)
        {
            var values = nodes.Select(n => (n.Name, Value: n.Environment.GetValueOrDefault(key))).ToList();
            foreach (var (name, _) in values.Where(v => string.IsNullOrEmpty(v.Value)))
            {
                yield return $"node '{name}' does not set {key}";
            }

            if (values.Where(v => !string.IsNullOrEmpty(v.Value)).Select(v => v.Value).Distinct().Count() > 1)
            {
                yield return $"the nodes set different {key}: {string.Join("; ", values.Select(v => $"{v.Name}={v.Value}"))}";
            }
        }

        foreach (var (key, expected) in new[] { ("Database__Provider", "Postgres"), ("Storage__Provider", "S3") })
        {
            foreach (var node in nodes.Where(n => n.Environment.GetValueOrDefault(key) is { Length: > 0 } v && !string.Equals(v, expected, StringComparison.OrdinalIgnoreCase)))
            {
                yield return $"node '{node.Name}' sets {key}={node.Environment[key]}: several nodes need {expected}";
            }
        }
    }

    /// <summary>
    /// What a node lacks to start in order and be watched: a health check (its own or the image's), waiting for a healthy
    /// PostgreSQL, a completed bucket initializer, and (unless it migrates itself) a completed <c>migrate</c>.
    /// </summary>
    public static IEnumerable<string> StartupProblems(IReadOnlyList<Service> services, IReadOnlyList<Service> nodes, bool imageHasHealthcheck)
    {
        var postgres = services.Where(s => s.Image?.StartsWith("postgres", StringComparison.Ordinal) == true).Select(s => s.Name).ToList();
        var bucketInitializers = services.Where(s => s.Image?.StartsWith("minio/mc", StringComparison.Ordinal) == true).Select(s => s.Name).ToList();
        var migrators = services.Where(s => s.Command.Count > 0 && s.Command[0] == "migrate").Select(s => s.Name).ToList();
        if (postgres.Count == 0)
        {
            yield return "no service runs a postgres image";
        }

        if (bucketInitializers.Count == 0)
        {
            yield return "no bucket initializer: no service runs a minio/mc image";
        }

        foreach (var node in nodes)
        {
            var disabled = node.Healthcheck is { } h && h.TryGetValue("disable", out var d) && string.Equals(d as string, "true", StringComparison.OrdinalIgnoreCase);
            if (disabled || (node.Healthcheck is null && !imageHasHealthcheck))
            {
                yield return $"node '{node.Name}' has no health check: {(disabled ? "its healthcheck is disabled" : "none of its own and the Dockerfile has no HEALTHCHECK")}";
            }

            if (!postgres.Any(p => node.DependsOn.GetValueOrDefault(p) == "service_healthy"))
            {
                yield return $"node '{node.Name}' does not wait for PostgreSQL ({string.Join(", ", postgres)}) with condition service_healthy";
            }

            if (!bucketInitializers.Any(b => node.DependsOn.GetValueOrDefault(b) == "service_completed_successfully"))
            {
                yield return $"node '{node.Name}' does not wait for the bucket initializer ({string.Join(", ", bucketInitializers)}) with condition service_completed_successfully";
            }

            var migratesItself = string.Equals(node.Environment.GetValueOrDefault("Database__MigrateOnStartup"), "true", StringComparison.OrdinalIgnoreCase);
            if (!migratesItself && !migrators.Any(m => node.DependsOn.GetValueOrDefault(m) == "service_completed_successfully"))
            {
                yield return $"node '{node.Name}' does not migrate on startup (Database__MigrateOnStartup is not true) and does not wait for a service running `migrate` with condition service_completed_successfully";
            }
        }
    }

    /// <summary>
    /// What is wrong with the image a Dockerfile builds: not multi-stage from the SDK to the ASP.NET Core runtime, root at
    /// run time, an entry point that is not <paramref name="executable"/> (absolute, exec form), a command or health check
    /// verb the executable lacks (<paramref name="verbs"/>), or a listening port that EXPOSE and the health check miss.
    /// </summary>
    public static IEnumerable<string> ImageProblems(Dockerfile dockerfile, string executable, IReadOnlySet<string> verbs)
    {
        var runtime = dockerfile.Runtime;
        if (!dockerfile.Stages.Any(s => s.From == "mcr.microsoft.com/dotnet/sdk:10.0"))
        {
            yield return "no build stage FROM mcr.microsoft.com/dotnet/sdk:10.0";
        }

        if (dockerfile.Stages.Count < 2 || runtime.From != "mcr.microsoft.com/dotnet/aspnet:10.0")
        {
            yield return $"the runtime (last) stage is FROM {runtime.From}, not a separate stage FROM mcr.microsoft.com/dotnet/aspnet:10.0";
        }

        var user = runtime.Last("USER")?.Arguments.Split(':')[0];
        if (user is null)
        {
            yield return "the runtime stage has no USER: the server would run as root";
        }
        else if (user is "root" or "0")
        {
            yield return $"the runtime stage's last USER is {user}: the server would run as root";
        }

        var entrypoint = runtime.Last("ENTRYPOINT") is { } e ? Dockerfile.ExecForm(e.Arguments) : null;
        if (entrypoint is not { Count: > 0 } || !entrypoint[0].StartsWith('/') || Path.GetFileName(entrypoint[0]) != executable)
        {
            yield return $"the ENTRYPOINT is {runtime.Last("ENTRYPOINT")?.Arguments ?? "missing"}: it must run the executable '{executable}' by its absolute path, in exec form [\"/…/{executable}\"]";
        }
        else if (entrypoint.Count > 1)
        {
            yield return $"the ENTRYPOINT passes arguments ({string.Join(' ', entrypoint.Skip(1))}): a command given to the container (migrate, users add) must come straight after the executable";
        }

        if (runtime.Last("CMD") is { } cmd && (Dockerfile.ExecForm(cmd.Arguments) is not { Count: > 0 } words || !verbs.Contains(words[0])))
        {
            yield return $"the CMD {cmd.Arguments} is not an exec-form command of {executable} ({string.Join(", ", verbs.Order())})";
        }

        var urls = runtime.All("ENV").Select(env => Regex.Match(env.Arguments, @"(?:^|\s)Urls=(?<urls>\S+)", RegexOptions.IgnoreCase)).LastOrDefault(m => m.Success);
        var port = urls is null ? null : Regex.Match(urls.Groups["urls"].Value, @":(?<port>\d+)/?$").Groups["port"].Value;
        if (urls is null || !urls.Groups["urls"].Value.StartsWith("http://+:", StringComparison.Ordinal))
        {
            yield return "the runtime stage does not set ENV Urls=http://+:PORT: appsettings.json listens on localhost only, which nothing outside the container reaches";
        }
        else if (!runtime.All("EXPOSE").Any(x => x.Arguments.Split(' ').Any(p => p.Split('/')[0] == port)))
        {
            yield return $"the server listens on port {port} (ENV Urls) but EXPOSE does not name it";
        }

        var healthcheck = runtime.Last("HEALTHCHECK");
        if (healthcheck is null)
        {
            yield return "the runtime stage has no HEALTHCHECK";
            yield break;
        }

        var check = Dockerfile.ExecForm(Dockerfile.HealthcheckCommand(healthcheck.Arguments));
        if (check is not { Count: >= 2 } || check[0] != (entrypoint is { Count: > 0 } ? entrypoint[0] : null) || !verbs.Contains(check[1]) || check[1] != "healthcheck")
        {
            yield return $"the HEALTHCHECK runs {Dockerfile.HealthcheckCommand(healthcheck.Arguments)}: it must run the entry point's executable's healthcheck command in exec form (the image has no curl or wget)";
        }
        else if (port is { Length: > 0 } && !check.Any(w => w.StartsWith($"http://127.0.0.1:{port}/", StringComparison.Ordinal)))
        {
            yield return $"the HEALTHCHECK ({string.Join(' ', check)}) does not ask http://127.0.0.1:{port}/, where the server listens";
        }
    }

    // Compose's two forms: a mapping (KEY: value, KEY: with no value passes the variable through) or a list (KEY=value, KEY).
    private static Dictionary<string, string?> EnvironmentOf(Dictionary<object, object?> service)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        switch (service.GetValueOrDefault("environment"))
        {
            case Dictionary<object, object?> map:
                foreach (var (name, value) in map)
                {
                    environment[(string)name] = value?.ToString();
                }

                break;
            case List<object?> list:
                foreach (var item in list.Select(i => i?.ToString() ?? ""))
                {
                    var equals = item.IndexOf('=', StringComparison.Ordinal);
                    environment[equals < 0 ? item : item[..equals]] = equals < 0 ? null : item[(equals + 1)..];
                }

                break;
        }

        return environment;
    }
}

/// <summary>A Dockerfile as a list of stages, each a list of instructions (continuation lines joined, comments dropped).</summary>
internal sealed record Dockerfile(IReadOnlyList<Dockerfile.Stage> Stages)
{
    internal sealed record Instruction(string Keyword, string Arguments);

    internal sealed record Stage(string From, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

        public Instruction? Last(string keyword) => All(keyword).LastOrDefault();
    }

    /// <summary>The stage the image runs: the last one.</summary>
    public Stage Runtime => Stages[^1];

    public static Dockerfile Parse(string text)
    {
        var stages = new List<Stage>();
        List<Instruction>? current = null;
        var logical = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue; // comments and parser directives, also between continuation lines
            }

            if (line.EndsWith('\\'))
            {
                logical += line[..^1] + " ";
                continue;
            }

            logical += line;
            if (logical.Trim() is { Length: > 0 } instruction)
            {
                var space = instruction.IndexOfAny([' ', '\t']);
                var keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
                var arguments = space < 0 ? "" : instruction[(space + 1)..].Trim();
                if (keyword == "FROM")
                {
                    var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    current = [];
                    stages.Add(new Stage(words[0], words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, current));
                }
                else
                {
                    (current ?? throw new InvalidDataException($"'{keyword}' before the first FROM")).Add(new Instruction(keyword, arguments));
                }
            }

            logical = "";
        }

        return stages.Count > 0 ? new Dockerfile(stages) : throw new InvalidDataException("no FROM: not a Dockerfile");
    }

    /// <summary>An exec-form command (<c>["a", "b"]</c>) as its words; null for the shell form, which runs /bin/sh.</summary>
    public static IReadOnlyList<string>? ExecForm(string arguments) =>
        arguments.TrimStart().StartsWith('[') ? JsonSerializer.Deserialize<string[]>(arguments) : null;

    /// <summary>The command of <c>HEALTHCHECK [--option=value …] CMD …</c>.</summary>
    public static string HealthcheckCommand(string arguments)
    {
        var match = Regex.Match(arguments, @"(?:^|\s)CMD\s+(?<command>.+)$", RegexOptions.IgnoreCase);
        return match.Success ? match.Groups["command"].Value : "";
    }
}
