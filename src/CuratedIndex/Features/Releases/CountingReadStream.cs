namespace CuratedIndex.Features.Releases;

/// <summary>
/// A read-only pass-through that counts the bytes read, keeps the last 8 of them (a gzip trailer), optionally
/// feeds them to a CRC-32, and lets the owner stop the read (by throwing) after each chunk.
/// </summary>
internal sealed class CountingReadStream(Stream inner, Action<long>? afterRead = null, Crc32? crc = null) : Stream
{
    private readonly byte[] _tail = new byte[8];

    public long BytesRead { get; private set; }

    /// <summary>The last bytes read, up to 8.</summary>
    public ReadOnlySpan<byte> Tail => _tail.AsSpan(0, (int)Math.Min(BytesRead, _tail.Length));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Counted(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Counted(buffer.Span[..read]);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Counted(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length >= _tail.Length)
        {
            chunk[^_tail.Length..].CopyTo(_tail);
        }
        else if (chunk.Length > 0)
        {
            var kept = (int)Math.Min(BytesRead, _tail.Length - chunk.Length);
            var start = (int)Math.Min(BytesRead, _tail.Length) - kept;
            _tail.AsSpan(start, kept).CopyTo(_tail);
            chunk.CopyTo(_tail.AsSpan(kept));
        }

        BytesRead += chunk.Length;
        crc?.Append(chunk);
        afterRead?.Invoke(BytesRead);
    }
}
