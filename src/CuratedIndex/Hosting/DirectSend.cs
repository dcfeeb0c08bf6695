using System.Buffers;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Hosting;

/// <summary>
/// Sends large response bodies from where they are kept straight to the socket: a file (the root list, a stored
/// artifact) with sendfile(2), zero-copy as nginx sends it, and a rendered page's bytes with one send(2).
/// <para>
/// Kestrel has no sendfile: every body byte is copied into its output pipe, and from there into the kernel. Profiles of
/// the 3,000-release page showed those two copies at 45% of the proxy's CPU. This connection layer (installed on plain
/// HTTP endpoints, <c>Server:DirectSend</c>) takes the place of the socket transport's sender: it sends what Kestrel
/// writes, in order, and between two of Kestrel's flushes the body an endpoint hands it. Kestrel still frames the
/// response and checks its Content-Length: after the body is sent, Kestrel is told of its bytes, which it writes into
/// scratch memory that is never read.
/// </para>
/// </summary>
public static class DirectSend
{
    /// <summary>Bodies smaller than this are written through Kestrel as usual: for them, the copy costs less than the hand-over.</summary>
    public const int MinimumBodyLength = 16 * 1024;

    /// <summary>
    /// Installs the layer on an endpoint: connections on the socket transport on Linux get it (it reopens files through
    /// /proc); others (named pipes, tests' TestServer) do not.
    /// </summary>
    public static void Install(ListenOptions listen)
    {
        var metrics = listen.ApplicationServices.GetRequiredService<DirectSendMetrics>();
        listen.Use(next => connection => RunAsync(connection, next, metrics));
    }

    private static async Task RunAsync(ConnectionContext connection, ConnectionDelegate next, DirectSendMetrics metrics)
    {
        if (!Available || connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket || await StartsWithTlsAsync(connection.Transport.Input))
        {
            // TLS sits above this layer when Kestrel terminates it: ciphertext gains nothing here, so it is left alone.
            await next(connection);
            return;
        }

        var pool = connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool;
        using var direct = new DirectSendConnection(connection.Transport, socket, pool, connection.Abort, metrics);
        connection.Transport = direct;
        connection.Features.Set(direct);
        try
        {
            await next(connection);
        }
        finally
        {
            // Kestrel is done with the connection: what it wrote is sent before the socket transport closes it.
            await direct.FinishAsync();
        }
    }

    // Linux, with /proc mounted: files are reopened through /proc/self/fd for sendfile.
    private static readonly bool Available = OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd");

    // A TLS connection opens with a handshake record (content type 22); plain HTTP with a method's letter. Kestrel's own
    // timeouts start only once this layer hands the connection on, so a client that sends nothing is not waited for long:
    // its connection goes on unwrapped, and Kestrel's request-headers timeout deals with it.
    private static async Task<bool> StartsWithTlsAsync(PipeReader input)
    {
        // A token, not CancelPendingRead: it can only cancel this read, never one of Kestrel's later.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var read = await input.ReadAsync(patience.Token);
            var first = read.Buffer.IsEmpty ? (byte)0 : read.Buffer.FirstSpan[0];
            input.AdvanceTo(read.Buffer.Start); // nothing consumed: Kestrel (or the TLS layer) reads the same bytes
            return first == 0x16;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>
    /// The layer of this request's connection, or null when a body cannot be handed to it: no layer (another transport,
    /// <c>Server:DirectSend=false</c>), TLS above it (it would see ciphertext), or HTTP/2 and later (frames, not a byte stream).
    /// </summary>
    /// <remarks>
    /// The response body must be Kestrel's own: a middleware that wraps it (compression, body logging, output caching) would
    /// receive the body's length as bytes. Kestrel's request serves every feature itself, so a replaced body feature shows.
    /// </remarks>
    public static DirectSendConnection? For(HttpContext context) =>
        context.Features.Get<DirectSendConnection>() is { } direct
        && context.Features.Get<ITlsHandshakeFeature>() is null
        && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        && ReferenceEquals(context.Features.Get<IHttpResponseBodyFeature>(), context.Features.Get<IHttpRequestFeature>())
            ? direct
            : null;
}

/// <summary>
/// Meter <c>CuratedIndex.Serving</c>: <c>curated_index.direct_send.bodies</c>, response bodies handed to the socket, by where
/// they came from (<c>source</c>: <c>file</c> for files and document files, sent with sendfile; <c>memory</c>).
/// </summary>
public sealed class DirectSendMetrics
{
    public const string MeterName = "CuratedIndex.Serving";

    public DirectSendMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        BodiesSent = meter.CreateCounter<long>("curated_index.direct_send.bodies", description: "Response bodies handed straight to the socket (counted as they are handed over)");
    }

    public Counter<long> BodiesSent { get; }
}

/// <summary>
/// One connection's output. Kestrel's bytes are buffered until Kestrel flushes, then sent on the flushing thread (no hop to
/// a sender thread); a handed-over body is sent by the request's own thread between two flushes.
/// </summary>
public sealed class DirectSendConnection : PipeWriter, IDuplexPipe, IDisposable
{
    // Kestrel writes a handed-over body's length here; nobody reads it. Shared by every connection: its contents never matter.
    private static readonly byte[] Scratch = new byte[1 << 20];

    // One send(2) or sendfile(2) per chunk, each with its own deadline (Kestrel's minimum response data rate).
    private const int ChunkSize = 1 << 20;

    private readonly IDuplexPipe _transport;
    private readonly Socket _socket;
    private readonly Action _abort;
    private readonly Pipe _buffer;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private long _counting;
    private volatile bool _failed;
    private int _flushCanceled;
    private readonly List<ArraySegment<byte>> _gather = [];
    private FileChunkSender? _fileSender;

    private readonly DirectSendMetrics _metrics;

    public DirectSendConnection(IDuplexPipe transport, Socket socket, MemoryPool<byte>? pool, Action abort, DirectSendMetrics metrics)
    {
        _metrics = metrics;
        _transport = transport;
        _socket = socket;
        _abort = abort;
        // Kestrel's bytes wait here until its next flush sends them; the flush itself is the backpressure.
        _buffer = new Pipe(new PipeOptions(pool, pauseWriterThreshold: 0, minimumSegmentSize: 4096, useSynchronizationContext: false));
    }

    PipeReader IDuplexPipe.Input => _transport.Input;

    PipeWriter IDuplexPipe.Output => this;

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> as the response's
    /// next body bytes, with sendfile(2). The response must have started with a Content-Length (HTTP/1.x framing).
    /// Returns when the bytes are sent; the caller keeps the file open until then.
    /// </summary>
    public async Task SendFileAsync(HttpContext context, SafeFileHandle file, long offset, long count)
    {
        FileStream stream;
        var added = false;
        try
        {
            // SendPacketsElement takes a FileStream opened for asynchronous use. Opening the caller's file again through
            // /proc gives one of our own (closed here, the caller's stays open), even when the file was unlinked meanwhile.
            file.DangerousAddRef(ref added);
            stream = new FileStream($"/proc/self/fd/{file.DangerousGetHandle()}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // /proc refused (a restricted sandbox, no descriptors left): the same bytes through Kestrel's pipe.
            await PlainResults.WriteFileAsync(context.Response.BodyWriter, file, offset, count, context.RequestAborted);
            return;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }

        await using (stream)
        {
            // sendfile reads the caller's handle; SendPacketsAsync (when the socket buffer fills) the stream.
            await SendFileAsync(context, stream, file, offset, count);
        }
    }

    /// <summary>
    /// As <see cref="SendFileAsync(HttpContext, SafeFileHandle, long, long)"/>, from a stream opened for asynchronous use
    /// (a <see cref="DocumentFile"/>) and its handle; sendfile reads it by offset, so concurrent sends may share it. The
    /// handle is passed, not read from the stream: <see cref="FileStream.SafeFileHandle"/> costs an lseek(2) each time
    /// (profiled: three per page).
    /// </summary>
    public Task SendFileAsync(HttpContext context, FileStream file, SafeFileHandle handle, long offset, long count) =>
        HandOverAsync(context, count, "file", async deadline =>
        {
            // First as nginx does it: sendfile(2) on the non-blocking socket, as far as the socket buffer takes it, on this
            // thread. What is left waits for the socket asynchronously.
            var done = SendFileNow(handle, offset, count);
            if (done == count)
            {
                return;
            }

            _fileSender ??= new FileChunkSender();
            var sender = _fileSender;
            while (done < count)
            {
                var chunk = (int)Math.Min(ChunkSize, count - done);
                using (deadline(chunk))
                {
                    await sender.SendAsync(_socket, file, offset + done, chunk);
                }

                done += chunk;
            }
        });

    /// <summary>Sends <paramref name="bytes"/> as the response's next body bytes, with one send(2) per megabyte.</summary>
    public Task SendAsync(HttpContext context, ReadOnlyMemory<byte> bytes) =>
        HandOverAsync(context, bytes.Length, "memory", async deadline =>
        {
            for (var done = 0; done < bytes.Length;)
            {
                var chunk = Math.Min(ChunkSize, bytes.Length - done);
                using (deadline(chunk))
                {
                    await SendAllAsync(bytes.Slice(done, chunk));
                }

                done += chunk;
            }
        });

    private async Task HandOverAsync(HttpContext context, long count, string source, Func<Func<int, IDisposable>, Task> send)
    {
        var writer = context.Response.BodyWriter;
        // The status line and headers go out first: the flush sends them (see FlushAsync). Corked, they leave in one segment
        // with the body's first bytes, as nginx's tcp_nopush sends them, instead of a small packet of their own.
        Cork(true);
        var flushed = await writer.FlushAsync(context.RequestAborted);
        if (flushed.IsCompleted || _failed)
        {
            throw Aborted(context, null);
        }

        var rate = context.Features.Get<IHttpMinResponseDataRateFeature>()?.MinDataRate;
        await _sending.WaitAsync(context.RequestAborted);
        // Counted as it is handed over, before its bytes leave: a client that has the whole body sees it counted.
        _metrics.BodiesSent.Add(1, new KeyValuePair<string, object?>("source", source));
        try
        {
            await send(chunk => new ChunkDeadline(context, chunk, rate));
        }
        catch (Exception e)
        {
            // Part of the body may be out: the only honest end is to close the connection.
            _failed = true;
            if (e is FileShrankException)
            {
                // Not the client's doing: the caller reports it.
                context.Abort();
                throw;
            }

            throw Aborted(context, e);
        }
        finally
        {
            Cork(false);
            _sending.Release();
        }

        // Kestrel frames the response and checks its Content-Length: it is told of the body's bytes, which land in scratch.
        _counting = count;
        for (var left = count; left > 0;)
        {
            var memory = writer.GetMemory((int)Math.Min(left, Scratch.Length));
            var bytes = (int)Math.Min(left, memory.Length);
            writer.Advance(bytes);
            left -= bytes;
        }
    }

    // TCP_CORK (Linux): hold partial segments until uncorked; uncorking sends what is held. Best effort: a socket that refuses
    // it only costs a packet more.
    private void Cork(bool on)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(value, on ? 1 : 0);
        try
        {
            _socket.SetRawSocketOption(6 /* IPPROTO_TCP */, 3 /* TCP_CORK */, value);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // A client that hangs up mid-body is not an application error: Kestrel's own abort, then the exception Kestrel treats
    // as an aborted request (an OperationCanceledException), so it logs no error.
    private static ConnectionAbortedException Aborted(HttpContext context, Exception? cause)
    {
        context.Abort();
        return new ConnectionAbortedException("the connection closed before the body was sent", cause ?? new IOException("the connection closed"));
    }

    /// <summary>
    /// A chunk that takes longer than Kestrel would allow its bytes (its minimum response data rate: 240 bytes/s after a 5 s
    /// grace by default) ends the connection, as a stalled flush would. A chunk done in time is never cut.
    /// </summary>
    private sealed class ChunkDeadline : IDisposable
    {
        private readonly CancellationTokenSource? _timer;
        private readonly CancellationTokenRegistration _registration;
        private volatile bool _done;

        public ChunkDeadline(HttpContext context, int chunk, MinDataRate? rate)
        {
            if (rate is null)
            {
                return;
            }

            _timer = new CancellationTokenSource(rate.GracePeriod + TimeSpan.FromSeconds(chunk / rate.BytesPerSecond));
            _registration = _timer.Token.Register(() =>
            {
                if (!_done)
                {
                    context.Abort();
                }
            });
        }

        public void Dispose()
        {
            _done = true;
            _registration.Dispose();
            _timer?.Dispose();
        }
    }

    /// <summary>Sends what Kestrel left unflushed and closes the socket transport's output (the connection is over).</summary>
    public async Task FinishAsync()
    {
        Exception? failure = null;
        try
        {
            if (!_failed)
            {
                await FlushAsync();
            }
        }
        catch (Exception e)
        {
            failure = e;
        }

        await _buffer.Reader.CompleteAsync();
        await _buffer.Writer.CompleteAsync();
        await _transport.Output.CompleteAsync(failure);
    }

    public override void Advance(int bytes)
    {
        if (_counting > 0)
        {
            _counting -= bytes;
            if (_counting < 0)
            {
                // More bytes than the body has would be bytes of the stream taken for the body's: never send a wrong stream.
                _failed = true;
                _abort();
                throw new InvalidOperationException("more bytes were written than the handed-over body has");
            }

            return;
        }

        _buffer.Writer.Advance(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) =>
        _counting > 0 ? Scratch.AsMemory(0, (int)Math.Min(Scratch.Length, _counting)) : _buffer.Writer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>Sends everything written since the last flush; completed (as a pipe whose reader is gone) once the connection failed.</summary>
    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failed)
        {
            return new FlushResult(isCanceled: false, isCompleted: true);
        }

        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _buffer.Writer.FlushAsync(cancellationToken);
            if (_buffer.Reader.TryRead(out var read))
            {
                await SendAllAsync(read.Buffer);
                _buffer.Reader.AdvanceTo(read.Buffer.End);
            }

            return new FlushResult(isCanceled: Interlocked.Exchange(ref _flushCanceled, 0) == 1, isCompleted: false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            _failed = true;
            _abort();
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
        finally
        {
            _sending.Release();
        }
    }

    // A flush here is a send in progress, which cannot be called back; the flush it concerns reports itself canceled.
    public override void CancelPendingFlush() => Interlocked.Exchange(ref _flushCanceled, 1);

    public override void Complete(Exception? exception = null)
    {
        if (exception is not null)
        {
            // Kestrel gave up on the connection: it ends now (a reset), not after what is buffered.
            _failed = true;
            _abort();
        }
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _buffer.Writer.UnflushedBytes;

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var count = await _socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[count..];
        }
    }

    // Several segments go out in one gathered sendmsg(2), as the socket transport's own sender does; what that leaves
    // (a partial send, memory that is not an array) goes segment by segment.
    private async ValueTask SendAllAsync(ReadOnlySequence<byte> buffer)
    {
        if (!buffer.IsSingleSegment && Gather(buffer))
        {
            buffer = buffer.Slice(await _socket.SendAsync(_gather, SocketFlags.None));
            _gather.Clear();
        }

        foreach (var segment in buffer)
        {
            await SendAllAsync(segment);
        }
    }

    private bool Gather(ReadOnlySequence<byte> buffer)
    {
        _gather.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                _gather.Clear();
                return false;
            }

            _gather.Add(array);
        }

        return true;
    }

    /// <summary>
    /// sendfile(2) through the socket's own asynchronous machinery: on Linux, .NET sends a file element of
    /// <see cref="Socket.SendPacketsAsync"/> with sendfile and waits for the socket to drain without blocking a thread.
    /// </summary>
    private sealed class FileChunkSender : SocketAsyncEventArgs
    {
        private TaskCompletionSource? _done;
        private int _count;

        public Task SendAsync(Socket socket, FileStream file, long offset, int count)
        {
            // The caller goes on where the socket drained (a socket thread with inline scheduling), sending the next chunk
            // at once, as nginx does on a writable event, rather than after a hop to the thread pool per megabyte.
            var done = _done = new TaskCompletionSource();
            _count = count;
            SendPacketsElements = [new SendPacketsElement(file, offset, count, endOfPacket: false)];
            if (!socket.SendPacketsAsync(this))
            {
                // Completed on this thread: the caller's await goes on without nesting in this call.
                Complete(done);
            }

            return done.Task;
        }

        protected override void OnCompleted(SocketAsyncEventArgs e) => Complete(_done!);

        private void Complete(TaskCompletionSource done)
        {
            if (SocketError == SocketError.Success && BytesTransferred == _count)
            {
                done.TrySetResult();
            }
            else if (SocketError == SocketError.Success)
            {
                // sendfile stops at the end of the file: one truncated under us sends fewer bytes than announced.
                done.TrySetException(new FileShrankException(_count - BytesTransferred));
            }
            else
            {
                done.TrySetException(new SocketException((int)SocketError));
            }
        }
    }

    public void Dispose()
    {
        _sending.Dispose();
        _fileSender?.Dispose();
    }

    // Bytes of the file sent with sendfile(2) before the socket's buffer filled (EAGAIN). The socket is non-blocking at the
    // OS level (.NET makes it so for asynchronous use), so this never waits.
    private long SendFileNow(SafeFileHandle file, long offset, long count)
    {
        var socketAdded = false;
        var fileAdded = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref socketAdded);
            file.DangerousAddRef(ref fileAdded);
            var socketFd = (int)_socket.SafeHandle.DangerousGetHandle();
            var fileFd = (int)file.DangerousGetHandle();
            long done = 0;
            while (done < count)
            {
                var position = offset + done;
                var sent = NativeMethods.SendFile(socketFd, fileFd, ref position, (nuint)Math.Min(count - done, ChunkSize));
                if (sent > 0)
                {
                    done += sent;
                    continue;
                }

                if (sent == 0)
                {
                    throw new FileShrankException(count - done);
                }

                var error = Marshal.GetLastPInvokeError();
                if (error == NativeMethods.EINTR)
                {
                    continue;
                }

                if (error is NativeMethods.EAGAIN)
                {
                    return done;
                }

                throw new IOException($"sendfile failed: errno {error}");
            }

            return done;
        }
        finally
        {
            if (fileAdded)
            {
                file.DangerousRelease();
            }

            if (socketAdded)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    private static class NativeMethods
    {
        public const int EINTR = 4;
        public const int EAGAIN = 11;

        [DllImport("libc", EntryPoint = "sendfile", SetLastError = true)]
        public static extern nint SendFile(int outFd, int inFd, ref long offset, nuint count);
    }

}
