using System.Security.Cryptography;

namespace CuratedIndex.Features.Files;

/// <summary>
/// The body sink of a cache-miss download: every chunk is hashed, written to the shared temporary file (which the
/// clients read from) and to the store's pending write, and then announced to the readers. It never waits for a
/// client. A body longer than the index promised is refused as it arrives, not after it has filled the disk.
/// </summary>
internal sealed class VerifyingTeeStream(SharedDownload download, Stream? store) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesWritten { get; private set; }

    public string Sha256Hex() => Convert.ToHexStringLower(_sha256.GetCurrentHash());

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        if (download.Request.ExpectedSize is { } size && BytesWritten + buffer.Length > size)
        {
            throw new IOException($"'{download.Request.Filename}' is longer than the {size} bytes the index says");
        }

        _sha256.AppendData(buffer.Span);
        await RandomAccess.WriteAsync(download.WriteHandle, buffer, BytesWritten, cancellationToken);
        if (store is not null)
        {
            await store.WriteAsync(buffer, cancellationToken);
        }

        BytesWritten += buffer.Length;
        download.Advanced(BytesWritten);
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Every write reaches the file at once (RandomAccess is unbuffered); the store flushes when it commits.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
