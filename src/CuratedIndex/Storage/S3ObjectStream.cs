namespace CuratedIndex.Storage;

/// <summary>
/// A read-only, seekable view of one S3 object, read by ranges on demand. A read at a new position fetches one
/// <see cref="BufferSize"/> block into a buffer (readers of zip archives jump around the central directory, often
/// backwards, within a block); a read that continues past the block streams the rest of the object in one GET, so a
/// sequential read of the whole object costs two requests and holds no more than the buffer. The first block comes with
/// the open (<see cref="S3ArtifactStore.OpenAsync"/>).
/// </summary>
internal sealed class S3ObjectStream(S3ArtifactStore store, string key, long length, string? entityTag, byte[] firstBlock) : Stream
{
    internal const int BufferSize = 64 * 1024;

    private long _position;
    private byte[]? _buffer = firstBlock.Length == 0 ? null : firstBlock;
    private int _bufferCount = firstBlock.Length;
    private long _bufferStart;
    private HttpResponseMessage? _response;
    private Stream? _body;
    private long _bodyPosition;
    private bool _disposed;

    public override bool CanRead => !_disposed;

    public override bool CanSeek => !_disposed;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // The synchronous path: every call below completes before it returns, so the task is already done.
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadCoreAsync(rented.AsMemory(0, buffer.Length), useAsync: false, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), useAsync: true, cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, useAsync: true, cancellationToken);

    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool useAsync, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length == 0 || _position >= length)
        {
            return 0;
        }

        if (!Buffered() && (_body is null || _bodyPosition != _position))
        {
            CloseBody();
            if (_buffer is not null && _position == _bufferStart + _bufferCount)
            {
                // Reading on past the block: the rest of the object in one response.
                _response = await store.GetRangeAsync(key, entityTag, _position, null, useAsync, cancellationToken);
                _body = useAsync ? await _response.Content.ReadAsStreamAsync(cancellationToken) : _response.Content.ReadAsStream(cancellationToken);
                _bodyPosition = _position;
            }
            else
            {
                await FillBufferAsync(useAsync, cancellationToken);
            }
        }

        if (Buffered())
        {
            var offset = (int)(_position - _bufferStart);
            var count = Math.Min(destination.Length, _bufferCount - offset);
            _buffer!.AsSpan(offset, count).CopyTo(destination.Span);
            _position += count;
            return count;
        }

        var wanted = destination[..(int)Math.Min(destination.Length, length - _position)];
        var read = useAsync ? await _body!.ReadAsync(wanted, cancellationToken) : _body!.Read(wanted.Span);
        if (read == 0)
        {
            throw new IOException($"artifact '{key}' ended at byte {_position} of {length} while it was read from S3");
        }

        _position += read;
        _bodyPosition += read;
        if (_bodyPosition == length)
        {
            // Read to its end: the connection goes back to the pool.
            CloseBody();
        }

        return read;
    }

    private bool Buffered() => _buffer is not null && _position >= _bufferStart && _position < _bufferStart + _bufferCount;

    private async ValueTask FillBufferAsync(bool useAsync, CancellationToken cancellationToken)
    {
        var count = (int)Math.Min(BufferSize, length - _position);
        if (_buffer is null || _buffer.Length < BufferSize)
        {
            _buffer = new byte[BufferSize]; // the first block of a small object is only as long as the object
        }

        _bufferCount = 0;
        using var response = await store.GetRangeAsync(key, entityTag, _position, _position + count - 1, useAsync, cancellationToken);
        await using var body = useAsync ? await response.Content.ReadAsStreamAsync(cancellationToken) : response.Content.ReadAsStream(cancellationToken);
        try
        {
            if (useAsync)
            {
                await body.ReadExactlyAsync(_buffer.AsMemory(0, count), cancellationToken);
            }
            else
            {
                body.ReadExactly(_buffer.AsSpan(0, count));
            }
        }
        catch (EndOfStreamException e)
        {
            throw new IOException($"artifact '{key}' ended before byte {_position + count} of {length} while it was read from S3", e);
        }

        _bufferStart = _position;
        _bufferCount = count;
    }

    private void CloseBody()
    {
        _body?.Dispose();
        _body = null;
        _response?.Dispose();
        _response = null;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            CloseBody();
        }

        base.Dispose(disposing);
    }
}
