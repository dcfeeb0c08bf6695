using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>
/// A valid pure-Python wheel made by a test, as a team's own service would be built: one module, and a dist-info with
/// METADATA (Name, Version, Requires-Python, Requires-Dist), WHEEL and RECORD (every file's sha256 and size), so pip
/// installs it as it installs any wheel. For projects no fixture has (a team's service, a lookalike name).
/// </summary>
public static class WheelBuilder
{
    public sealed record Wheel(string Project, string Version, string Filename, byte[] Content);

    public static Wheel Build(string name, string version, params string[] requiresDist)
    {
        var stem = name.Replace('-', '_').Replace('.', '_');
        var distInfo = $"{stem}-{version}.dist-info";
        var metadata = new StringBuilder()
            .Append("Metadata-Version: 2.1\n")
            .Append($"Name: {name}\n")
            .Append($"Version: {version}\n")
            .Append($"Summary: {name}, built by the CuratedIndex tests\n")
            .Append("Requires-Python: >=3.8\n");
        foreach (var requirement in requiresDist)
        {
            metadata.Append($"Requires-Dist: {requirement}\n");
        }

        var files = new List<(string Path, byte[] Content)>
        {
            ($"{stem}/__init__.py", Encoding.UTF8.GetBytes($"__version__ = \"{version}\"\n")),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes(metadata.ToString())),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: curated-index-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")),
        };
        var record = new StringBuilder();
        foreach (var (path, content) in files)
        {
            var digest = Convert.ToBase64String(SHA256.HashData(content)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append($"{path},sha256={digest},{content.Length}\n");
        }

        record.Append($"{distInfo}/RECORD,,\n");
        files.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
                entry.LastWriteTime = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return new Wheel(name, version, $"{stem}-{version}-py3-none-any.whl", buffer.ToArray());
    }
}
