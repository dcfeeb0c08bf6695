using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>Builds hostile archives in memory with the BCL writers (which write whatever names and types they are given).</summary>
internal static class HostileArchives
{
    public static byte[] Zip(params (string Name, byte[] Content)[] entries) =>
        Zip(entries.Select(e => (e.Name, e.Content, 0)).ToArray());

    /// <param name="entries">Name, content and the Unix mode for the high half of the external attributes (0: none).</param>
    public static byte[] Zip((string Name, byte[] Content, int UnixMode)[] entries)
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content, mode) in entries)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.SmallestSize);
                if (mode != 0)
                {
                    entry.ExternalAttributes = mode << 16;
                }

                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }

    public static byte[] TarGz(Action<TarWriter> write)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(tar);
        }

        return buffer.ToArray();
    }

    public static void AddFile(TarWriter tar, string name, string text) => AddFile(tar, name, Encoding.UTF8.GetBytes(text));

    public static void AddFile(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });

    public static void Add(TarWriter tar, TarEntryType type, string name, string? linkName = null)
    {
        var entry = new PaxTarEntry(type, name);
        if (linkName is not null)
        {
            entry.LinkName = linkName;
        }

        tar.WriteEntry(entry);
    }
}
