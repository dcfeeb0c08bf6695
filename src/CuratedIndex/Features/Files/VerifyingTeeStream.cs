using System.Buffers;
using System.Security.Cryptography;

namespace CuratedIndex.Features.Files;

/// <summary>
/// The body sink for a cache-miss download: every chunk is hashed, written to the store, and passed to
/// the waiting client one chunk late. The last chunk is released only after the digest is verified, so a
/// client never receives a complete file whose hash did not match; a client that hangs up does not stop
/// the download for the store.
/// </summary>
internal sealed class VerifyingTeeStream(Stream? store, Func<Stream?> startClient) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[]? _pending;
    private int _pendingLength;
    private Stream? _client;
    private bool _clientStarted;

    public long BytesWritten { get; private set; }

    /// <summary>True once the client response has begun: from then on a failure can only abort it.</summary>
    public bool ClientStarted => _clientStarted;

    public bool ClientConnected => _client is not null;

    public string Sha256Hex() => Convert.ToHexStringLower(_sha256.GetCurrentHash());

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        _sha256.AppendData(buffer.Span);
        BytesWritten += buffer.Length;
        if (store is not null)
        {
            await store.WriteAsync(buffer, cancellationToken);
        }

        if (!_clientStarted)
        {
            _clientStarted = true;
            _client = startClient();
        }

        if (_client is null)
        {
            return;
        }

        if (_pending is not null)
        {
            await SendToClientAsync(_pending.AsMemory(0, _pendingLength), cancellationToken);
        }

        if (_pending is null || _pending.Length < buffer.Length)
        {
            ReturnPending();
            _pending = ArrayPool<byte>.Shared.Rent(buffer.Length);
        }

        buffer.CopyTo(_pending);
        _pendingLength = buffer.Length;
    }

    /// <summary>Sends the held-back last chunk; call only after the digest matched.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_client is not null && _pending is not null)
        {
            await SendToClientAsync(_pending.AsMemory(0, _pendingLength), cancellationToken);
            await FlushClientAsync(cancellationToken);
        }

        ReturnPending();
    }

    private async Task SendToClientAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        try
        {
            await _client!.WriteAsync(chunk, cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away; the download continues for the store and for anyone waiting on it.
            _client = null;
        }
    }

    private async Task FlushClientAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client!.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _client = null;
        }
    }

    private void ReturnPending()
    {
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = null;
        }
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Flushes from the forwarder must not push the held-back chunk; they are no-ops here.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
            ReturnPending();
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
