using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Reads a wheel (.whl), or an sdist (.tar.gz, .zip), entirely in memory under <see cref="ArchiveLimits"/>:
/// nothing is written to disk, every size is counted from the bytes really decompressed, and anything
/// unsafe or over a limit refuses the whole archive with a reason.
/// </summary>
public static class ArchiveReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private enum Format
    {
        Zip,
        TarGz,
    }

    public static async Task<ArchiveReadResult> ReadAsync(Stream archive, string filename, ArchiveLimits limits, CancellationToken cancellationToken = default)
    {
        var format = FormatOf(filename);
        if (format is null)
        {
            return ArchiveReadResult.Refused(ArchiveRefusal.UnknownExtension, $"'{filename}' is not a wheel (.whl) or an sdist (.tar.gz, .zip)");
        }

        try
        {
            var entries = format == Format.Zip
                ? await ReadZipAsync(archive, limits, cancellationToken)
                : await ReadTarGzAsync(archive, limits, cancellationToken);
            return ArchiveReadResult.Read(entries);
        }
        catch (ArchiveRefusedException e)
        {
            return ArchiveReadResult.Refused(e.Refusal, e.Message);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            // The BCL readers throw a spread of types on hostile bytes (InvalidDataException, EndOfStreamException,
            // FormatException, ArgumentException, NotSupportedException for unknown methods): all mean unreadable.
            return ArchiveReadResult.Refused(ArchiveRefusal.Corrupt, $"unreadable archive: {e.Message}");
        }
    }

    private static Format? FormatOf(string filename) =>
        filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase) || filename.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? Format.Zip
        : filename.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) ? Format.TarGz
        : null;

    private static async Task<List<ArchiveEntry>> ReadZipAsync(Stream archive, ArchiveLimits limits, CancellationToken cancellationToken)
    {
        // ZipArchive needs to seek (the central directory is at the end); it would buffer a forward-only stream itself.
        var source = archive;
        if (!archive.CanSeek)
        {
            var copy = new MemoryStream();
            await archive.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            source = copy;
        }

        var archiveBytes = source.Length - source.Position;
        await using var zip = await ZipArchive.CreateAsync(source, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, cancellationToken);
        if (zip.Entries.Count > limits.MaxEntries)
        {
            throw TooManyEntries(limits);
        }

        var collector = new EntryCollector(limits);
        foreach (var entry in zip.Entries)
        {
            var path = CheckedPath(entry.FullName);
            var unixType = ((uint)entry.ExternalAttributes >> 16) & 0xF000;
            CheckZipFileType(entry.FullName, unixType);
            // A directory is a name ending in '/', as Python's zipfile (and so pip) sees it, whatever its mode says.
            if (entry.FullName.EndsWith('/') || path.Length == 0)
            {
                continue;
            }

            CheckDeclaredSize(entry.FullName, entry.Length, limits);
            await using var data = await entry.OpenAsync(cancellationToken);
            await collector.AddAsync(path, data, new ZipHeader(entry.CompressedLength, entry.Length, entry.Crc32), cancellationToken);

            // Many entries may share one compressed body (overlapping-entry bombs): bound the whole archive too.
            CheckRatio(collector.TotalBytes, archiveBytes, limits, "the archive");
        }

        return collector.Entries;
    }

    private static async Task<List<ArchiveEntry>> ReadTarGzAsync(Stream archive, ArchiveLimits limits, CancellationToken cancellationToken)
    {
        var compressed = new CountingReadStream(archive);
        await using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);

        // Counted below the tar reader, so bytes it skips (padding, data of entries it passes over) count too.
        var crc = new Crc32();
        var decompressed = new CountingReadStream(gzip, crc: crc, afterRead: total =>
        {
            if (total > limits.MaxTotalBytes)
            {
                throw TotalTooLarge(limits);
            }

            CheckRatio(total, compressed.BytesRead, limits, "the archive");
        });
        await using var tar = new TarReader(decompressed, leaveOpen: true);
        var collector = new EntryCollector(limits);
        var count = 0;
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            if (++count > limits.MaxEntries)
            {
                throw TooManyEntries(limits);
            }

            switch (entry.EntryType)
            {
                case TarEntryType.GlobalExtendedAttributes:
                    continue;
                case TarEntryType.SymbolicLink:
                    throw new ArchiveRefusedException(ArchiveRefusal.Symlink, $"entry '{entry.Name}' is a symbolic link (to '{entry.LinkName}')");
                case TarEntryType.HardLink:
                    throw new ArchiveRefusedException(ArchiveRefusal.HardLink, $"entry '{entry.Name}' is a hard link (to '{entry.LinkName}')");
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                    throw new ArchiveRefusedException(ArchiveRefusal.SpecialFile, $"entry '{entry.Name}' is a {entry.EntryType} (not a regular file)");
                case TarEntryType.Directory:
                    CheckedPath(entry.Name);
                    continue;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    var path = CheckedPath(entry.Name);
                    CheckDeclaredSize(entry.Name, entry.Length, limits);
                    await collector.AddAsync(path, entry.DataStream ?? Stream.Null, zipHeader: null, cancellationToken);
                    continue;
                default:
                    throw new ArchiveRefusedException(ArchiveRefusal.SpecialFile, $"entry '{entry.Name}' has the unsupported tar type {entry.EntryType}");
            }
        }

        // GZipStream takes a truncated stream for a short one: read to the end and check the gzip trailer ourselves.
        await decompressed.CopyToAsync(Stream.Null, cancellationToken);
        var tail = compressed.Tail;
        if (tail.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(tail) != crc.Value || BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]) != (uint)decompressed.BytesRead)
        {
            throw new ArchiveRefusedException(ArchiveRefusal.Corrupt, "the gzip stream is truncated (its trailer does not match the data; several gzip members are not supported)");
        }

        return collector.Entries;
    }

    /// <summary>The entry name as a relative '/'-separated path without '.' or empty segments ("" for the root itself).</summary>
    internal static string CheckedPath(string name)
    {
        if (name.Length == 0 || name.Any(char.IsControl))
        {
            throw new ArchiveRefusedException(ArchiveRefusal.InvalidPath, $"entry name '{name.ReplaceLineEndings(" ")}' is empty or holds control characters");
        }

        if (name.Contains('\\'))
        {
            throw new ArchiveRefusedException(ArchiveRefusal.AbsolutePath, $"entry '{name}' uses backslashes (a Windows path)");
        }

        if (name[0] == '/' || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':'))
        {
            throw new ArchiveRefusedException(ArchiveRefusal.AbsolutePath, $"entry '{name}' is an absolute path");
        }

        var segments = name.Split('/');
        if (segments.Contains(".."))
        {
            throw new ArchiveRefusedException(ArchiveRefusal.PathTraversal, $"entry '{name}' leaves the archive ('..' segment)");
        }

        return string.Join('/', segments.Where(s => s.Length > 0 && s != "."));
    }

    private static void CheckZipFileType(string name, uint unixType)
    {
        // The Unix mode sits in the high 16 bits of the external attributes of zips made on Unix; 0 elsewhere.
        switch (unixType)
        {
            case 0xA000:
                throw new ArchiveRefusedException(ArchiveRefusal.Symlink, $"entry '{name}' is a symbolic link");
            case 0x1000 or 0x2000 or 0x6000 or 0xC000:
                throw new ArchiveRefusedException(ArchiveRefusal.SpecialFile, $"entry '{name}' is a device, FIFO or socket (mode {unixType:x4})");
        }
    }

    private static void CheckDeclaredSize(string name, long declared, ArchiveLimits limits)
    {
        if (declared > limits.MaxEntryBytes)
        {
            throw EntryTooLarge(name, limits);
        }
    }

    private static void CheckRatio(long uncompressed, long compressed, ArchiveLimits limits, string what)
    {
        if (uncompressed > ArchiveLimits.RatioFloorBytes && uncompressed > Math.Max(compressed, 1) * limits.MaxCompressionRatio)
        {
            throw new ArchiveRefusedException(ArchiveRefusal.CompressionRatio,
                $"{what} expands more than {limits.MaxCompressionRatio}:1 ({uncompressed} bytes from {compressed})");
        }
    }

    private static ArchiveRefusedException TooManyEntries(ArchiveLimits limits) =>
        new(ArchiveRefusal.TooManyEntries, $"the archive has more than {limits.MaxEntries} entries");

    private static ArchiveRefusedException TotalTooLarge(ArchiveLimits limits) =>
        new(ArchiveRefusal.TotalTooLarge, $"the archive decompresses to more than {limits.MaxTotalBytes} bytes");

    private static ArchiveRefusedException EntryTooLarge(string name, ArchiveLimits limits) =>
        new(ArchiveRefusal.EntryTooLarge, $"entry '{name}' decompresses to more than {limits.MaxEntryBytes} bytes");

    private sealed record ZipHeader(long CompressedLength, long Length, uint Crc32);

    /// <summary>Hashes each file while it streams by and keeps its text when it is small UTF-8.</summary>
    private sealed class EntryCollector(ArchiveLimits limits)
    {
        private readonly HashSet<string> _paths = new(StringComparer.OrdinalIgnoreCase);

        public List<ArchiveEntry> Entries { get; } = [];

        public long TotalBytes { get; private set; }

        public async Task AddAsync(string path, Stream data, ZipHeader? zipHeader, CancellationToken cancellationToken)
        {
            // Case-insensitive: on macOS and Windows two such entries install over each other.
            if (!_paths.Add(path))
            {
                throw new ArchiveRefusedException(ArchiveRefusal.DuplicateEntry, $"entry '{path}' appears more than once");
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var crc = new Crc32();
            var text = new MemoryStream();
            var keepText = true;
            var buffer = new byte[81920];
            long size = 0;
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                TotalBytes += read;
                if (size > limits.MaxEntryBytes)
                {
                    throw EntryTooLarge(path, limits);
                }

                if (TotalBytes > limits.MaxTotalBytes)
                {
                    throw TotalTooLarge(limits);
                }

                if (zipHeader is not null)
                {
                    CheckRatio(size, zipHeader.CompressedLength, limits, $"entry '{path}'");
                    crc.Append(buffer.AsSpan(0, read));
                }

                hash.AppendData(buffer, 0, read);
                keepText = keepText && size <= limits.MaxTextBytes;
                if (keepText)
                {
                    text.Write(buffer, 0, read);
                }
            }

            // ZipArchive stops inflating at the size the header declares; the CRC shows whether that was the whole content.
            if (zipHeader is not null && (size != zipHeader.Length || crc.Value != zipHeader.Crc32))
            {
                throw new ArchiveRefusedException(ArchiveRefusal.Corrupt,
                    $"entry '{path}' does not match its header (declared {zipHeader.Length} bytes, CRC-32 {zipHeader.Crc32:x8}; read {size} bytes, CRC-32 {crc.Value:x8})");
            }

            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            Entries.Add(new ArchiveEntry(path, size, sha256, keepText ? AsText(text) : null));
        }

        private static string? AsText(MemoryStream content)
        {
            var bytes = content.GetBuffer().AsSpan(0, (int)content.Length);
            if (bytes.Contains((byte)0))
            {
                return null;
            }

            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }
    }
}
