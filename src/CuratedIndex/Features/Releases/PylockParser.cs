using CuratedIndex.Protocol;
using Tomlyn;
using Tomlyn.Model;

namespace CuratedIndex.Features.Releases;

// PEP 751 pylock.toml (lock-version 1.x): each [[packages]] entry becomes one requirement pinned to its
// version, with the files of its sdist and wheels and their sha256. Packages from a VCS, a directory or an
// archive URL are errors: an index cannot serve them.
internal static class PylockParser
{
    public static void Parse(string text, string file, LockFileReader.Session session)
    {
        TomlTable document;
        try
        {
            document = TomlSerializer.Deserialize<TomlTable>(text) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            session.Error(file, e.Line is int l && l > 0 ? l : 0, $"not valid TOML: {FirstLine(e.Message)}");
            return;
        }

        if (!CheckLockVersion(document, file, session))
        {
            return;
        }

        if (!document.TryGetValue("packages", out var packagesValue))
        {
            return;
        }

        var packages = packagesValue switch
        {
            TomlTableArray tables => tables.ToList(),
            TomlArray array when array.All(item => item is TomlTable) => array.Cast<TomlTable>().ToList(),
            _ => null,
        };
        if (packages is null)
        {
            session.Error(file, 0, "'packages' must be an array of tables");
            return;
        }

        var headerLines = PackageHeaderLines(text);
        for (var i = 0; i < packages.Count; i++)
        {
            var line = i < headerLines.Count ? headerLines[i] : 0;
            ParsePackage(packages[i], i, file, line, session);
        }
    }

    private static bool CheckLockVersion(TomlTable document, string file, LockFileReader.Session session)
    {
        if (!document.TryGetValue("lock-version", out var value) || value is not string lockVersion)
        {
            session.Error(file, 0, "no 'lock-version': not a PEP 751 lock file");
            return false;
        }

        var parts = lockVersion.Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var major) || !int.TryParse(parts[1], out var minor))
        {
            session.Error(file, 0, $"lock-version '{lockVersion}' is not MAJOR.MINOR");
            return false;
        }

        if (major != 1)
        {
            session.Error(file, 0, $"lock-version {lockVersion} is not supported (this reader knows 1.0)");
            return false;
        }

        if (minor > 0)
        {
            session.Note(file, 0, $"lock-version {lockVersion} is newer than 1.0; read as 1.0");
        }

        return true;
    }

    private static void ParsePackage(TomlTable package, int index, string file, int line, LockFileReader.Session session)
    {
        var label = $"[[packages]] #{index + 1}";
        if (!package.TryGetValue("name", out var nameValue) || nameValue is not string rawName || !ProjectName.IsValid(rawName))
        {
            session.Error(file, line, $"{label}: missing or invalid 'name'");
            return;
        }

        var name = ProjectName.Normalize(rawName);
        label = $"{label} ({rawName})";
        foreach (var source in (string[])["vcs", "directory", "archive"])
        {
            if (package.ContainsKey(source))
            {
                session.Error(file, line, $"{label}: a '{source}' package cannot come from an index");
                return;
            }
        }

        if (!package.TryGetValue("version", out var versionValue) || versionValue is not string versionText)
        {
            session.Error(file, line, $"{label}: no 'version'");
            return;
        }

        if (!Pep440Version.TryParse(versionText, out var version))
        {
            session.Error(file, line, $"{label}: version '{versionText}' is not PEP 440");
            return;
        }

        string? marker = null;
        if (package.TryGetValue("marker", out var markerValue))
        {
            if (markerValue is not string markerText || markerText.Trim().Length == 0)
            {
                session.Error(file, line, $"{label}: 'marker' must be a non-empty string");
                return;
            }

            marker = markerText.Trim();
        }

        var files = new List<LockedFile>();
        if (package.TryGetValue("sdist", out var sdist))
        {
            if (sdist is not TomlTable sdistTable)
            {
                session.Error(file, line, $"{label}: 'sdist' must be a table");
                return;
            }

            if (!ReadFileEntry(sdistTable, $"{label} sdist", file, line, session, files))
            {
                return;
            }
        }

        if (package.TryGetValue("wheels", out var wheels))
        {
            var wheelTables = wheels switch
            {
                TomlTableArray tables => tables.ToList(),
                TomlArray array when array.All(item => item is TomlTable) => array.Cast<TomlTable>().ToList(),
                _ => null,
            };
            if (wheelTables is null)
            {
                session.Error(file, line, $"{label}: 'wheels' must be an array of tables");
                return;
            }

            foreach (var wheel in wheelTables)
            {
                if (!ReadFileEntry(wheel, $"{label} wheel", file, line, session, files))
                {
                    return;
                }
            }
        }

        if (files.Count == 0)
        {
            session.Error(file, line, $"{label}: no sdist or wheel with a sha256 hash");
            return;
        }

        var specifier = VersionSpecifierSet.Parse("==" + version);
        var text = marker is null ? $"{rawName}=={versionText}" : $"{rawName}=={versionText} ; {marker}";
        session.Add(new LockFileRequirement(
            file, line, text, name, specifier, [.. files.Select(f => f.Sha256).Distinct()], [], marker, files, IsConstraint: false));
    }

    // One sdist or wheel entry: its filename (given, or the last segment of its url or path) and its sha256.
    // A file with only other hashes is kept out with a note: files are pinned by sha256 only.
    private static bool ReadFileEntry(TomlTable entry, string label, string file, int line, LockFileReader.Session session, List<LockedFile> files)
    {
        var filename = entry.TryGetValue("name", out var n) && n is string given ? given : null;
        if (filename is null)
        {
            var location = (entry.TryGetValue("url", out var u) ? u : entry.TryGetValue("path", out var p) ? p : null) as string;
            filename = location?.Split('?', '#')[0].TrimEnd('/').Split('/', '\\')[^1];
        }

        if (string.IsNullOrEmpty(filename) || filename.Contains('/') || filename.Contains('\\'))
        {
            session.Error(file, line, $"{label}: no file name (neither 'name' nor a 'url' or 'path' ending in one)");
            return false;
        }

        if (!entry.TryGetValue("hashes", out var hashesValue) || hashesValue is not TomlTable hashes || hashes.Count == 0)
        {
            session.Error(file, line, $"{label} {filename}: no 'hashes'");
            return false;
        }

        if (!hashes.TryGetValue("sha256", out var shaValue))
        {
            session.Note(file, line, $"{label} {filename}: only {string.Join(", ", hashes.Keys)} hashes; not pinned (files are pinned by sha256)");
            return true;
        }

        var sha256 = (shaValue as string)?.ToLowerInvariant();
        if (sha256 is null || sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
        {
            session.Error(file, line, $"{label} {filename}: sha256 '{shaValue}' is not 64 hex characters");
            return false;
        }

        long? size = entry.TryGetValue("size", out var s) && s is long bytes ? bytes : null;
        files.Add(new LockedFile(filename, sha256, size));
        return true;
    }

    // The line of each "[[packages]]" header, so that messages can point at the entry.
    private static List<int> PackageHeaderLines(string text)
    {
        var lines = new List<int>();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            var trimmed = line.Trim();
            if (trimmed.StartsWith("[[", StringComparison.Ordinal)
                && trimmed[2..].TrimStart().StartsWith("packages", StringComparison.Ordinal)
                && trimmed[2..].TrimStart()["packages".Length..].TrimStart().StartsWith("]]", StringComparison.Ordinal))
            {
                lines.Add(number);
            }
        }

        return lines;
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
