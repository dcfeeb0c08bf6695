using System.Collections.Frozen;
using System.Globalization;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Protocol;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CuratedIndex.Features.Policies;

/// <summary>
/// Reads every <c>*.yaml</c> file under a directory (sorted by name, merged) into a <see cref="PolicySnapshot"/>.
/// Any problem throws <see cref="PolicyFileException"/> naming the file, line and problem: a policy that
/// does not parse must stop startup rather than silently allow or hide something.
/// </summary>
public static class PolicyLoader
{
    private static readonly FrozenSet<string> KnownKeys =
        new[] { "environments", "approve", "deny", "vet", "publishers", "internal", "cooldown", "vet-cutoff" }.ToFrozenSet();

    public static PolicySnapshot LoadDirectory(string directory) => Parse(ReadDirectory(directory));

    /// <summary>Every <c>*.yaml</c> file under <paramref name="directory"/>, sorted by relative name, read once.</summary>
    public static IReadOnlyList<PolicyFile> ReadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new PolicyFileException(directory, 0, "policy directory does not exist");
        }

        return Directory.GetFiles(directory, "*.yaml", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(file => new PolicyFile(Path.GetRelativePath(directory, file), File.ReadAllBytes(file)))
            .ToList();
    }

    /// <summary>Parses files read by <see cref="ReadDirectory"/> (the bytes that are parsed are the bytes a caller hashes).</summary>
    public static PolicySnapshot Parse(IReadOnlyList<PolicyFile> files) =>
        Parse(files.Select(f => (f.Name, f.Text)).ToArray());

    public static PolicySnapshot Parse(params (string Name, string Yaml)[] files)
    {
        var builder = new Builder();
        foreach (var (name, yaml) in files)
        {
            builder.Add(name, yaml);
        }

        return builder.Build();
    }

    private sealed class Builder
    {
        private readonly Dictionary<string, EnvironmentPolicy> _environments = new(StringComparer.Ordinal);
        private readonly HashSet<string> _approved = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _denied = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _vet = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<VettedPublisher>> _publishers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _internalNames = new(StringComparer.Ordinal);
        private readonly List<string> _internalPrefixes = [];
        private readonly Dictionary<string, TimeSpan> _cooldowns = new(StringComparer.Ordinal);
        private DateTime? _vetCutoff;

        public void Add(string file, string yaml)
        {
            // A NUL or escape sequence in a policy file means a binary or tampered file, not a policy.
            for (var i = 0; i < yaml.Length; i++)
            {
                if (char.IsControl(yaml[i]) && yaml[i] is not ('\t' or '\n' or '\r'))
                {
                    var line = yaml.AsSpan(0, i).Count('\n') + 1;
                    throw new PolicyFileException(file, line, $"the file contains the control character U+{(int)yaml[i]:X4}");
                }
            }

            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException e)
            {
                throw new PolicyFileException(file, e.Start.Line, FirstLine(e.InnerException?.Message ?? e.Message));
            }

            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            {
                return;
            }

            if (stream.Documents.Count > 1)
            {
                throw new PolicyFileException(file, stream.Documents[1].RootNode.Start.Line, "only one YAML document per policy file is allowed");
            }

            if (stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                throw Problem(file, stream.Documents[0].RootNode, "the top level must be a mapping of policy keys");
            }

            foreach (var (keyNode, value) in root.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                switch (key)
                {
                    case "environments": AddEnvironments(file, value); break;
                    case "approve": AddApprove(file, value); break;
                    case "deny": AddDeny(file, value); break;
                    case "vet": AddVet(file, value); break;
                    case "publishers": AddPublishers(file, value); break;
                    case "internal": AddInternal(file, value); break;
                    case "cooldown": AddCooldowns(file, value); break;
                    case "vet-cutoff": SetVetCutoff(file, value); break;
                    default:
                        throw Problem(file, keyNode, $"unknown policy key '{key}' (known: {string.Join(", ", KnownKeys.Order())})");
                }
            }
        }

        public PolicySnapshot Build() => new(
            _environments.ToFrozenDictionary(StringComparer.Ordinal),
            _approved.ToFrozenSet(StringComparer.Ordinal),
            _denied.ToFrozenDictionary(StringComparer.Ordinal),
            _vet.ToFrozenDictionary(StringComparer.Ordinal),
            _publishers.ToFrozenDictionary(p => p.Key, p => (IReadOnlyList<VettedPublisher>)p.Value.ToArray(), StringComparer.Ordinal),
            _internalNames.ToFrozenSet(StringComparer.Ordinal),
            _internalPrefixes.ToArray())
        {
            Cooldowns = _cooldowns.ToFrozenDictionary(StringComparer.Ordinal),
            VetCutoff = _vetCutoff,
        };

        private void AddCooldowns(string file, YamlNode node)
        {
            foreach (var (nameNode, durationNode) in Mapping(file, node, "cooldown").Children)
            {
                var name = ProjectNameOf(file, nameNode);
                var text = Scalar(file, durationNode, $"cooldown of '{name}'");
                var cooldown = ParseDuration(text) ?? throw Problem(file, durationNode, $"cooldown '{name}': '{text}' is not a duration such as 7d, 12h or 30m");
                // A second file must not quietly shorten a cooldown: the same value twice is fine, another is refused.
                if (_cooldowns.TryGetValue(name, out var earlier) && earlier != cooldown)
                {
                    throw Problem(file, durationNode, $"cooldown '{name}' is set twice with different durations");
                }

                _cooldowns[name] = cooldown;
            }
        }

        private void SetVetCutoff(string file, YamlNode node)
        {
            var text = Scalar(file, node, "vet-cutoff");
            // A date is midnight UTC at its start; a full ISO 8601 time with an offset is taken as written.
            DateTime cutoff;
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                cutoff = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            }
            // The offset is required ('Z' or ±hh:mm): a time without one would be read in the server's own time zone.
            else if (DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:sszzz"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment))
            {
                cutoff = moment.UtcDateTime;
            }
            else
            {
                throw Problem(file, node, $"vet-cutoff '{text}' is not a date (2026-12-01) or a time with an offset (2026-12-01T12:00:00Z)");
            }

            if (_vetCutoff is { } earlier && earlier != cutoff)
            {
                throw Problem(file, node, "vet-cutoff is set twice with different values");
            }

            _vetCutoff = cutoff;
        }

        private void AddEnvironments(string file, YamlNode node)
        {
            foreach (var (nameNode, value) in Mapping(file, node, "environments").Children)
            {
                var name = Scalar(file, nameNode, "environment name");
                if (!EnvironmentName.IsValid(name))
                {
                    throw Problem(file, nameNode, $"invalid environment name '{name}' (lower-case letters, digits and '-', at most 64)");
                }

                if (_environments.ContainsKey(name))
                {
                    throw Problem(file, nameNode, $"environment '{name}' is defined twice");
                }

                var options = Mapping(file, value, $"environment '{name}'");
                Tier? tier = null;
                TimeSpan? cooldown = null;
                var access = IndexAccessMode.Open;
                var typosquat = TyposquatMode.Warn;
                var criteria = Releases.VettingCriteria.SafeToDeploy;
                IReadOnlyList<string>? targets = null;
                foreach (var (optionNode, optionValue) in options.Children)
                {
                    var option = Scalar(file, optionNode, "option");
                    if (option == "targets")
                    {
                        targets = Targets(file, optionValue, name);
                        continue;
                    }

                    var text = Scalar(file, optionValue, option);
                    switch (option)
                    {
                        case "tier":
                            tier = text switch
                            {
                                "1" => Tier.Passthrough,
                                "2" => Tier.Reviewed,
                                "3" => Tier.Vetted,
                                _ => throw Problem(file, optionValue, $"environment '{name}': tier must be 1, 2 or 3, not '{text}'"),
                            };
                            break;
                        case "cooldown":
                            cooldown = ParseDuration(text) ?? throw Problem(file, optionValue, $"environment '{name}': cooldown '{text}' is not a duration such as 7d, 12h or 30m");
                            break;
                        case "access":
                            access = text switch
                            {
                                "open" => IndexAccessMode.Open,
                                "token" => IndexAccessMode.Token,
                                _ => throw Problem(file, optionValue, $"environment '{name}': access must be open or token, not '{text}'"),
                            };
                            break;
                        case "typosquat":
                            typosquat = text switch
                            {
                                "warn" => TyposquatMode.Warn,
                                "block" => TyposquatMode.Block,
                                _ => throw Problem(file, optionValue, $"environment '{name}': typosquat must be warn or block, not '{text}'"),
                            };
                            break;
                        case "criteria":
                            criteria = Releases.VettingCriteria.IsKnown(text)
                                ? text
                                : throw Problem(file, optionValue, $"environment '{name}': criteria must be safe-to-deploy or safe-to-run, not '{text}'");
                            break;
                        default:
                            throw Problem(file, optionNode, $"environment '{name}': unknown option '{option}' (known: tier, cooldown, access, typosquat, criteria, targets)");
                    }
                }

                _environments[name] = new EnvironmentPolicy(name, tier ?? throw Problem(file, nameNode, $"environment '{name}' has no tier"), cooldown, access, typosquat, criteria)
                {
                    Targets = targets ?? Protocol.Pep508.PythonTarget.Default,
                };
            }
        }

        // Each target is checked here, so a closure never meets one it cannot evaluate; the same target twice is refused.
        private static List<string> Targets(string file, YamlNode node, string environment)
        {
            var targets = new List<string>();
            foreach (var item in Sequence(file, node, $"environment '{environment}': targets"))
            {
                var text = Scalar(file, item, "target");
                if (!Protocol.Pep508.PythonTarget.TryParse(text, out var target, out var error))
                {
                    throw Problem(file, item, $"environment '{environment}': target '{text}': {error}");
                }

                if (targets.Contains(target.Text, StringComparer.Ordinal))
                {
                    throw Problem(file, item, $"environment '{environment}': target '{target.Text}' is listed twice");
                }

                targets.Add(target.Text);
            }

            return targets.Count > 0 ? targets : throw Problem(file, node, $"environment '{environment}': targets must list at least one target such as \"3.12 manylinux_2_28_x86_64\"");
        }

        private void AddApprove(string file, YamlNode node)
        {
            foreach (var item in Sequence(file, node, "approve"))
            {
                _approved.Add(ProjectNameOf(file, item));
            }
        }

        private void AddDeny(string file, YamlNode node)
        {
            foreach (var (nameNode, reasonNode) in Mapping(file, node, "deny").Children)
            {
                var name = ProjectNameOf(file, nameNode);
                var reason = Scalar(file, reasonNode, $"deny reason for '{name}'");
                if (string.IsNullOrWhiteSpace(reason))
                {
                    throw Problem(file, reasonNode, $"deny '{name}' needs a reason");
                }

                _denied[name] = reason.Trim();
            }
        }

        private void AddVet(string file, YamlNode node)
        {
            foreach (var (nameNode, specifierNode) in Mapping(file, node, "vet").Children)
            {
                var name = ProjectNameOf(file, nameNode);
                var specifier = Scalar(file, specifierNode, $"vet specifier for '{name}'");
                if (!Protocol.VersionSpecifierSet.TryParse(specifier, out _))
                {
                    throw Problem(file, specifierNode, $"vet '{name}': '{specifier}' is not a PEP 440 version specifier");
                }

                // A second file must not quietly widen what is vetted by policy: the same value twice is fine, another is refused.
                if (_vet.TryGetValue(name, out var earlier) && earlier != specifier)
                {
                    throw Problem(file, specifierNode, $"vet '{name}' is set twice with different specifiers ('{earlier}' and '{specifier}')");
                }

                _vet[name] = specifier;
            }
        }

        /// <summary>
        /// <c>publishers:</c> maps a project to its vetted publishers, each an entry string or
        /// <c>{ publisher: entry, from: date, until: date }</c>. Files add to one another (a union); the same publisher
        /// twice is kept once, and refused when its dates differ, so one file cannot quietly widen another's window.
        /// </summary>
        private void AddPublishers(string file, YamlNode node)
        {
            foreach (var (nameNode, listNode) in Mapping(file, node, "publishers").Children)
            {
                var name = ProjectNameOf(file, nameNode);
                if (!_publishers.TryGetValue(name, out var publishers))
                {
                    publishers = [];
                    _publishers[name] = publishers;
                }

                foreach (var item in Sequence(file, listNode, $"publishers of '{name}'"))
                {
                    var publisher = VettedPublisherOf(file, name, item);
                    var earlier = publishers.Find(p => p.Key == publisher.Key);
                    if (earlier is null)
                    {
                        publishers.Add(publisher);
                    }
                    else if (earlier.From != publisher.From || earlier.Until != publisher.Until)
                    {
                        throw Problem(file, item, $"publishers of '{name}': '{publisher}' is listed twice with different dates ({Window(earlier)} and {Window(publisher)})");
                    }
                }
            }
        }

        private static VettedPublisher VettedPublisherOf(string file, string project, YamlNode item)
        {
            string text;
            DateOnly? from = null;
            DateOnly? until = null;
            if (item is YamlMappingNode entry)
            {
                string? publisherText = null;
                foreach (var (keyNode, valueNode) in entry.Children)
                {
                    var key = Scalar(file, keyNode, $"publishers of '{project}': key");
                    var value = Scalar(file, valueNode, $"publishers of '{project}': {key}");
                    switch (key)
                    {
                        case "publisher": publisherText = value; break;
                        case "from": from = DateOf(file, project, valueNode, key, value); break;
                        case "until": until = DateOf(file, project, valueNode, key, value); break;
                        default:
                            throw Problem(file, keyNode, $"publishers of '{project}': unknown key '{key}' (known: publisher, from, until)");
                    }
                }

                text = publisherText ?? throw Problem(file, item, $"publishers of '{project}': an entry with from/until needs 'publisher:'");
            }
            else
            {
                text = Scalar(file, item, $"publishers of '{project}': an entry");
            }

            return VettedPublisher.TryParse(text, from, until, out var publisher, out var error)
                ? publisher
                : throw Problem(file, item, $"publishers of '{project}': '{Printable(text)}': {error}");
        }

        private static DateOnly DateOf(string file, string project, YamlNode node, string key, string text) =>
            DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                ? date
                : throw Problem(file, node, $"publishers of '{project}': {key} '{Printable(text)}' is not a date such as 2026-12-31");

        private static string Window(VettedPublisher publisher)
        {
            var parts = new List<string>();
            if (publisher.From is { } from)
            {
                parts.Add("from " + from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }

            if (publisher.Until is { } until)
            {
                parts.Add("until " + until.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }

            return parts.Count == 0 ? "no dates" : string.Join(' ', parts);
        }

        // An entry is echoed in the error: cut short, and anything but printable ASCII (line breaks, bidi overrides) shown
        // as \uXXXX, so the message stays one line and reads as what the file holds.
        private static string Printable(string text)
        {
            var shown = text.Length > 80 ? text[..80] : text;
            return string.Concat(shown.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}")) + (text.Length > 80 ? "…" : "");
        }

        private void AddInternal(string file, YamlNode node)
        {
            foreach (var item in Sequence(file, node, "internal"))
            {
                var text = Scalar(file, item, "internal name");
                // A trailing separator marks a prefix ("acme-" covers acme-tools, acme-db, ...).
                if (text.Length > 1 && text[^1] is '-' or '_' or '.')
                {
                    var stem = text[..^1];
                    if (!ProjectName.IsValid(stem))
                    {
                        throw Problem(file, item, $"'{text}' is not a valid project name prefix");
                    }

                    _internalPrefixes.Add(ProjectName.Normalize(stem) + "-");
                }
                else
                {
                    _internalNames.Add(ProjectNameOf(file, item));
                }
            }
        }

        private static string ProjectNameOf(string file, YamlNode node)
        {
            var text = Scalar(file, node, "project name");
            if (!ProjectName.IsValid(text))
            {
                throw Problem(file, node, $"'{text}' is not a valid project name");
            }

            return ProjectName.Normalize(text);
        }

        private static YamlMappingNode Mapping(string file, YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Problem(file, node, $"{what} must be a mapping");

        private static IEnumerable<YamlNode> Sequence(string file, YamlNode node, string what) =>
            node as YamlSequenceNode ?? throw Problem(file, node, $"{what} must be a list");

        private static string Scalar(string file, YamlNode node, string what) =>
            (node as YamlScalarNode)?.Value ?? throw Problem(file, node, $"{what} must be a single value");

        private static PolicyFileException Problem(string file, YamlNode node, string problem) =>
            new(file, node.Start.Line, problem);

        private static string FirstLine(string message) => message.Split('\n')[0].Trim();
    }

    /// <summary>Parses durations written as a number and a unit: 30s, 15m, 12h, 7d.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 36500)
        {
            return null;
        }

        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => null,
        };
    }
}

/// <summary>A policy file's name relative to the policy directory, and its bytes.</summary>
public sealed record PolicyFile(string Name, byte[] Bytes)
{
    /// <summary>The bytes decoded as <see cref="File.ReadAllText(string)"/> would (UTF-8, a byte-order mark honoured).</summary>
    public string Text
    {
        get
        {
            using var reader = new StreamReader(new MemoryStream(Bytes), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
    }
}
