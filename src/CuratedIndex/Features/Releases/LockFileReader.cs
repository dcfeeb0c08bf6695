using System.Text;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Reads the lock files a service installs from: pip requirements files (as pip-compile writes them, with
/// <c>--hash</c>) and PEP 751 <c>pylock.toml</c>. Pure: no network, and the only files touched are the one
/// named and the ones it includes with <c>-r</c>/<c>-c</c>.
/// </summary>
public static class LockFileReader
{
    /// <summary>A larger file is refused unread; real lock files are kilobytes.</summary>
    public const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>How deep <c>-r</c>/<c>-c</c> includes may nest.</summary>
    public const int MaxIncludeDepth = 16;

    /// <summary>Reads <paramref name="path"/> and every file it includes. Never throws for bad input.</summary>
    public static LockFileReadResult Read(string path)
    {
        var reader = new Session();
        reader.ReadFile(path, isConstraint: false, depth: 0, includedFrom: null);
        return reader.Result();
    }

    /// <summary>
    /// Reads requirements-file text; <paramref name="displayName"/> names it in messages, and <c>-r</c>/<c>-c</c>
    /// includes resolve against its folder.
    /// </summary>
    public static LockFileReadResult ReadRequirementsText(string text, string displayName)
    {
        var reader = new Session();
        reader.Enter(displayName);
        RequirementsFileParser.Parse(text, displayName, isConstraint: false, depth: 0, reader);
        return reader.Result();
    }

    /// <summary>Reads pylock.toml text; <paramref name="displayName"/> names it in messages.</summary>
    public static LockFileReadResult ReadPylockText(string text, string displayName)
    {
        var reader = new Session();
        PylockParser.Parse(text, displayName, reader);
        return reader.Result();
    }

    /// <summary>PEP 751 names: <c>pylock.toml</c> or <c>pylock.&lt;name&gt;.toml</c>.</summary>
    public static bool IsPylockFileName(string path)
    {
        var name = Path.GetFileName(path);
        if (name == "pylock.toml")
        {
            return true;
        }

        if (!name.StartsWith("pylock.", StringComparison.Ordinal) || !name.EndsWith(".toml", StringComparison.Ordinal))
        {
            return false;
        }

        var middle = name["pylock.".Length..^".toml".Length];
        return middle.Length > 0 && !middle.Contains('.');
    }

    // Collects requirements and problems across one file and its includes.
    internal sealed class Session
    {
        private readonly List<LockFileRequirement> _requirements = [];
        private readonly List<LockFileProblem> _problems = [];
        // Files being read right now (a cycle) and files already read (a diamond: read once).
        private readonly HashSet<string> _open = new(StringComparer.Ordinal);
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);

        public void Add(LockFileRequirement requirement) => _requirements.Add(requirement);

        public void Error(string file, int line, string message) => _problems.Add(new LockFileProblem(file, line, message, true));

        public void Note(string file, int line, string message) => _problems.Add(new LockFileProblem(file, line, message, false));

        public LockFileReadResult Result()
        {
            FlagConflictingPins();
            return new LockFileReadResult([.. _requirements], [.. _problems]);
        }

        public void Enter(string path) => _open.Add(FullPath(path));

        public void ReadFile(string path, bool isConstraint, int depth, (string File, int Line)? includedFrom)
        {
            var (errorFile, errorLine) = includedFrom ?? (path, 0);
            var fullPath = FullPath(path);
            if (_open.Contains(fullPath))
            {
                Error(errorFile, errorLine, $"include cycle: '{path}' is already being read");
                return;
            }

            if (_done.Contains(fullPath))
            {
                return;
            }

            if (depth > MaxIncludeDepth)
            {
                Error(errorFile, errorLine, $"includes nest deeper than {MaxIncludeDepth} files at '{path}'");
                return;
            }

            if (!TryReadText(path, out var text, out var why))
            {
                Error(errorFile, errorLine, includedFrom is null ? $"cannot read the file: {why}" : $"cannot read included file '{path}': {why}");
                return;
            }

            _open.Add(fullPath);
            if (IsPylockFileName(path))
            {
                PylockParser.Parse(text, path, this);
            }
            else if (path.EndsWith(".toml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".lock", StringComparison.OrdinalIgnoreCase))
            {
                Error(errorFile, errorLine, $"'{path}' is not a format read here: use a requirements file or a PEP 751 pylock.toml (uv and Poetry can export either)");
            }
            else
            {
                RequirementsFileParser.Parse(text, path, isConstraint, depth, this);
            }

            _open.Remove(fullPath);
            _done.Add(fullPath);
        }

        // Two pins of one project for the same environment marker cannot both install (pip refuses such a
        // file too); the same pin twice, as an include and a listing, is fine.
        private void FlagConflictingPins()
        {
            var firstPin = new Dictionary<(string Name, string Marker), LockFileRequirement>();
            foreach (var requirement in _requirements)
            {
                if (requirement.IsConstraint || requirement.PinnedVersion is null)
                {
                    continue;
                }

                var key = (requirement.Name, requirement.Marker ?? "");
                if (!firstPin.TryGetValue(key, out var first))
                {
                    firstPin[key] = requirement;
                }
                else if (first.PinnedVersion != requirement.PinnedVersion)
                {
                    Error(requirement.File, requirement.Line, $"{requirement.Name} is pinned to {requirement.PinnedVersion} here and to {first.PinnedVersion} at {first.Location}");
                }
            }
        }

        private static string FullPath(string path)
        {
            try
            {
                return Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return path;
            }
        }

        private static bool TryReadText(string path, out string text, out string why)
        {
            text = "";
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    why = Directory.Exists(path) ? "it is a directory" : "no such file";
                    return false;
                }

                if (info.Length > MaxFileBytes)
                {
                    why = $"{info.Length} bytes is over the {MaxFileBytes} byte limit";
                    return false;
                }

                text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
                why = "";
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or DecoderFallbackException)
            {
                why = e is DecoderFallbackException ? "it is not UTF-8 text" : e.Message;
                return false;
            }
        }
    }
}
