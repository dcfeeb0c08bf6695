using System.IO.Compression;
using System.Security.Cryptography;
using CuratedIndex.Hosting;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// A document ready to send (a simple page, a JSON API document): the bytes, their gzip copy, a validator for each, and
/// the serial to report. The gzip copy is made once, when the document is rendered, so that no request compresses
/// anything; cached renderings are kept until their upstream document or the curation changes (<see cref="RenderCache"/>).
/// </summary>
public sealed class RenderedPage
{
    /// <param name="body">The identity bytes.</param>
    /// <param name="lastSerial">Upstream's serial, reported as <c>X-PyPI-Last-Serial</c>.</param>
    /// <param name="compress">False for a document rendered per request, which is then only sent as it is.</param>
    public RenderedPage(byte[] body, long? lastSerial, bool compress = true)
    {
        Body = DocumentBytes.Of(body);
        ETag = ETagOf(body);
        LastSerial = lastSerial;
        if (compress)
        {
            Gzip = DocumentBytes.Of(Compress(body));
            GzipETag = GzipETagOf(ETag);
        }
    }

    /// <summary>The identity representation.</summary>
    public DocumentBytes Body { get; }

    /// <summary>The identity representation's strong validator: a digest of <see cref="Body"/>.</summary>
    public string ETag { get; }

    /// <summary>The gzip representation (RFC 1952), or null when the document is only sent as it is.</summary>
    public DocumentBytes? Gzip { get; }

    /// <summary>The gzip representation's own validator (RFC 9110 8.8.3: each representation has its own), or null.</summary>
    public string? GzipETag { get; }

    public long? LastSerial { get; }

    public static string ETagOf(ReadOnlySpan<byte> body) => $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"";

    /// <summary>
    /// The gzip representation's validator, derived from the identity one: the compressed bytes change exactly when the
    /// identity bytes do, and the two must never be equal (a cache holding one must not revalidate it as the other).
    /// </summary>
    public static string GzipETagOf(string identityETag) => $"{identityETag[..^1]}-gzip\"";

    // zlib's default level (6), as `gzip` and PyPI's CDN use: the sha256 digests that fill large pages do not compress
    // further at higher levels, and level 9 costs several times the CPU per page rendered.
    private static byte[] Compress(byte[] body)
    {
        using var output = new MemoryStream(body.Length / 3 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }
}

/// <summary>
/// One representation's bytes, kept where sending them costs least: small ones in managed memory, large ones in an
/// nameless file (<see cref="DocumentFile"/>) that sendfile(2) hands to the socket without a copy
/// (<see cref="DirectSend"/>), and that keeps large documents off the managed heap.
/// </summary>
public sealed class DocumentBytes
{
    /// <summary>Documents from this size on are kept in a document file (where available).</summary>
    public const int FileThreshold = 64 * 1024;

    private DocumentBytes(byte[]? bytes, FileStream? file, long length)
    {
        Bytes = bytes;
        File = file;
        Handle = file?.SafeFileHandle;
        Length = length;
        if (file is not null)
        {
            // The file is closed (and its pages freed) when its stream is finalized, after the cache dropped the document:
            // the collector is told of memory it does not see, so that it comes round sooner.
            GC.AddMemoryPressure(length);
        }
    }

    ~DocumentBytes()
    {
        if (File is not null)
        {
            GC.RemoveMemoryPressure(Length);
        }
    }

    public long Length { get; }

    /// <summary>The bytes, when kept in managed memory.</summary>
    public byte[]? Bytes { get; }

    /// <summary>The document file holding the bytes, when kept in one; shared by concurrent sends, which read it by offset.</summary>
    public FileStream? File { get; }

    /// <summary><see cref="File"/>'s handle, read once: <see cref="FileStream.SafeFileHandle"/> seeks on every read of it.</summary>
    public SafeFileHandle? Handle { get; }

    public static DocumentBytes Of(byte[] bytes) =>
        bytes.Length >= FileThreshold && DocumentFile.TryCreate(bytes) is { } file ? new DocumentBytes(null, file, bytes.Length) : new DocumentBytes(bytes, null, bytes.Length);
}
