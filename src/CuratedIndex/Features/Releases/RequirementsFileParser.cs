using System.Text;
using System.Text.RegularExpressions;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

// pip's requirements-file format, the subset a lock file uses: one requirement per logical line
// (name, extras, specifier, marker, --hash options), -r/-c includes, and global options, which are ignored
// because the environment decides where packages come from. What pip would install from somewhere other
// than an index (URLs, paths, -e) is an error: an index cannot vet it.
internal static partial class RequirementsFileParser
{
    // Options that only steer where and how pip downloads; the flag says whether a value follows.
    private static readonly Dictionary<string, bool> IgnoredGlobalOptions = new(StringComparer.Ordinal)
    {
        ["-i"] = true, ["--index-url"] = true, ["--extra-index-url"] = true, ["--no-index"] = false,
        ["-f"] = true, ["--find-links"] = true, ["--trusted-host"] = true, ["--pre"] = false,
        ["--prefer-binary"] = false, ["--only-binary"] = true, ["--no-binary"] = true,
        ["--require-hashes"] = false, ["--use-feature"] = true,
    };

    private static readonly string[] HashAlgorithms = ["sha256", "sha384", "sha512"];

    private static readonly string[] ArchiveSuffixes = [".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip"];

    public static void Parse(string text, string file, bool isConstraint, int depth, LockFileReader.Session session)
    {
        foreach (var (lineNumber, rawLine) in LogicalLines(text))
        {
            var line = CommentPattern().Replace(rawLine, "").Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (tokens[0].StartsWith('-'))
            {
                ParseOptionLine(tokens, file, lineNumber, isConstraint, depth, session);
            }
            else
            {
                ParseRequirementLine(tokens, file, lineNumber, isConstraint, session);
            }
        }
    }

    // Joins backslash continuations the way pip does; a comment line ends a continuation. Each logical line
    // carries the number of its first physical line.
    internal static IEnumerable<(int Line, string Text)> LogicalLines(string text)
    {
        var lines = text.TrimStart('\uFEFF').Split('\n');
        StringBuilder? pending = null;
        var start = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var isComment = line.TrimStart().StartsWith('#');
            if (line.EndsWith('\\') && !isComment)
            {
                if (pending is null)
                {
                    pending = new StringBuilder();
                    start = i + 1;
                }

                pending.Append(line, 0, line.Length - 1).Append(' ');
                continue;
            }

            if (pending is not null)
            {
                if (!isComment)
                {
                    pending.Append(line);
                }

                yield return (start, pending.ToString());
                pending = null;
                continue;
            }

            yield return (i + 1, line);
        }

        if (pending is not null)
        {
            yield return (start, pending.ToString());
        }
    }

    private static void ParseOptionLine(string[] tokens, string file, int line, bool isConstraint, int depth, LockFileReader.Session session)
    {
        for (var i = 0; i < tokens.Length; i++)
        {
            var (option, attached) = SplitOption(tokens[i]);
            if (option is "-r" or "--requirement" or "-c" or "--constraint")
            {
                var value = attached ?? (i + 1 < tokens.Length ? tokens[++i] : null);
                if (value is null)
                {
                    session.Error(file, line, $"{option} needs a file name");
                    return;
                }

                Include(value, file, line, isConstraint || option is "-c" or "--constraint", depth, session);
                continue;
            }

            if (option is "-e" or "--editable")
            {
                session.Error(file, line, $"editable requirement '{string.Join(' ', tokens)}': an index cannot serve a local or VCS checkout");
                return;
            }

            if (IgnoredGlobalOptions.TryGetValue(option, out var takesValue))
            {
                if (takesValue && attached is null)
                {
                    i++;
                }

                continue;
            }

            session.Error(file, line, $"unknown option '{option}' in '{string.Join(' ', tokens)}'");
            return;
        }
    }

    private static void Include(string value, string file, int line, bool isConstraint, int depth, LockFileReader.Session session)
    {
        if (value.Contains("://", StringComparison.Ordinal))
        {
            session.Error(file, line, $"include '{value}' is a URL: only local files are read");
            return;
        }

        var path = Path.IsPathRooted(value) ? value : Path.Combine(Path.GetDirectoryName(file) ?? "", value);
        session.ReadFile(path, isConstraint, depth + 1, (file, line));
    }

    // "--hash=x" -> ("--hash", "x"); "-rfile" -> ("-r", "file"); "--pre" -> ("--pre", null).
    private static (string Option, string? Value) SplitOption(string token)
    {
        if (token.StartsWith("--", StringComparison.Ordinal))
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? (token, null) : (token[..equals], token[(equals + 1)..]);
        }

        if (token.Length > 2)
        {
            var value = token[2..];
            return (token[..2], value.StartsWith('=') ? value[1..] : value);
        }

        return (token, null);
    }

    private static void ParseRequirementLine(string[] tokens, string file, int line, bool isConstraint, LockFileReader.Session session)
    {
        // Like pip: the requirement ends at the first token that starts with '-'; the rest are its options.
        var firstOption = Array.FindIndex(tokens, t => t.StartsWith('-'));
        var requirementTokens = firstOption < 0 ? tokens : tokens[..firstOption];
        var optionTokens = firstOption < 0 ? [] : tokens[firstOption..];
        var requirementText = string.Join(' ', requirementTokens);
        var text = string.Join(' ', tokens);

        if (!TryParseRequirement(requirementText, out var name, out var extras, out var specifier, out var marker, out var error))
        {
            session.Error(file, line, $"{error}: '{requirementText}'");
            return;
        }

        var hashes = new List<string>();
        for (var i = 0; i < optionTokens.Length; i++)
        {
            var (option, attached) = SplitOption(optionTokens[i]);
            switch (option)
            {
                case "--hash":
                    var value = attached ?? (i + 1 < optionTokens.Length ? optionTokens[++i] : null);
                    if (!ReadHash(value, name, file, line, hashes, session))
                    {
                        return;
                    }

                    break;
                case "--config-settings" or "--global-option" or "--install-option":
                    session.Note(file, line, $"{name}: {option} ignored (it only changes how pip builds, not what it installs)");
                    if (attached is null)
                    {
                        i++;
                    }

                    break;
                default:
                    session.Error(file, line, $"unknown option '{option}' for {name}: '{text}'");
                    return;
            }
        }

        session.Add(new LockFileRequirement(file, line, requirementText, name, specifier, hashes, extras, marker, [], isConstraint));
    }

    private static bool ReadHash(string? value, string name, string file, int line, List<string> hashes, LockFileReader.Session session)
    {
        var colon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (value is null || colon < 0)
        {
            session.Error(file, line, $"{name}: --hash needs the form algorithm:hexdigest");
            return false;
        }

        var algorithm = value[..colon].ToLowerInvariant();
        var digest = value[(colon + 1)..].ToLowerInvariant();
        if (!HashAlgorithms.Contains(algorithm))
        {
            session.Error(file, line, $"{name}: unknown hash algorithm '{algorithm}' (pip accepts sha256, sha384, sha512)");
            return false;
        }

        var expectedLength = algorithm switch { "sha256" => 64, "sha384" => 96, _ => 128 };
        if (digest.Length != expectedLength || !digest.All(char.IsAsciiHexDigit))
        {
            session.Error(file, line, $"{name}: {algorithm} digest '{digest}' is not {expectedLength} hex characters");
            return false;
        }

        if (algorithm != "sha256")
        {
            session.Note(file, line, $"{name}: {algorithm} hash kept as information only; files are pinned by sha256");
            return true;
        }

        if (!hashes.Contains(digest))
        {
            hashes.Add(digest);
        }

        return true;
    }

    // PEP 508 for what an index can serve: name [extras] specifier ; marker.
    internal static bool TryParseRequirement(
        string text,
        out string name,
        out IReadOnlyList<string> extras,
        out VersionSpecifierSet specifier,
        out string? marker,
        out string error)
    {
        name = "";
        extras = [];
        specifier = VersionSpecifierSet.Empty;
        marker = null;

        var semicolon = text.IndexOf(';', StringComparison.Ordinal);
        var body = (semicolon < 0 ? text : text[..semicolon]).Trim();
        if (semicolon >= 0)
        {
            marker = text[(semicolon + 1)..].Trim();
            if (marker.Length == 0)
            {
                error = "empty environment marker after ';'";
                return false;
            }
        }

        if (body.Contains('@', StringComparison.Ordinal) || body.Contains("://", StringComparison.Ordinal))
        {
            error = "URL requirement: an index cannot serve it";
            return false;
        }

        if (body.StartsWith('.') || body.StartsWith('~') || body.Contains('/', StringComparison.Ordinal) || body.Contains('\\', StringComparison.Ordinal)
            || ArchiveSuffixes.Any(s => body.EndsWith(s, StringComparison.OrdinalIgnoreCase)))
        {
            error = "path requirement: an index cannot serve a local file";
            return false;
        }

        var nameLength = 0;
        while (nameLength < body.Length && (char.IsAsciiLetterOrDigit(body[nameLength]) || body[nameLength] is '.' or '-' or '_'))
        {
            nameLength++;
        }

        var rawName = body[..nameLength];
        if (!ProjectName.IsValid(rawName))
        {
            error = "not a requirement (no valid project name)";
            return false;
        }

        name = ProjectName.Normalize(rawName);
        var rest = body[nameLength..].TrimStart();
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = "unclosed '[' in extras";
                return false;
            }

            var names = rest[1..close].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Any(n => !ProjectName.IsValid(n)))
            {
                error = "invalid extra name";
                return false;
            }

            extras = [.. names.Select(ProjectName.Normalize).Distinct()];
            rest = rest[(close + 1)..].TrimStart();
        }

        if (rest.StartsWith('(') && rest.EndsWith(')'))
        {
            rest = rest[1..^1].Trim();
        }

        if (rest.Length > 0 && rest[0] is not ('<' or '>' or '=' or '!' or '~'))
        {
            error = "unparseable requirement";
            return false;
        }

        if (!VersionSpecifierSet.TryParse(rest, out var parsed))
        {
            error = "invalid PEP 440 version specifier";
            return false;
        }

        specifier = parsed;
        error = "";
        return true;
    }

    // pip strips "#" comments that start a line or follow whitespace ("pkg#egg" is not a comment).
    [GeneratedRegex(@"(^|\s+)#.*$")]
    private static partial Regex CommentPattern();
}
