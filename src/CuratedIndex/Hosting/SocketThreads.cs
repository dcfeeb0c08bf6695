using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace CuratedIndex.Hosting;

/// <summary>
/// Index reads run on the socket threads, as nginx serves from its event loop; everything else runs on the thread pool.
/// <para>
/// By default .NET hands every socket event from its epoll thread to the thread pool, and Kestrel hands the request on
/// again. For a page sent with sendfile that hop was the largest cost left (profiled: 47-52 µs of CPU per request for the
/// gzip copy of a 3,000-release page with it, 34-35 µs without, where nginx spends 28). With <c>Server:InlineScheduling</c>
/// (default on) the serve command sets <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> before any socket exists, and
/// Kestrel runs requests where their bytes arrived (<see cref="SocketTransportOptions.UnsafePreferInlineScheduling"/>).
/// </para>
/// <para>
/// Code on a socket thread holds up every connection of that thread, so only work that neither blocks nor takes long may
/// run there: an index read answered from memory or a document file. The rules that keep it so:
/// a request that is not an index read leaves in the first middleware of ours, and its request and response bodies bring
/// it back to the thread pool after every wait (<see cref="LeaveMiddleware"/>); an index read leaves where its slow part
/// starts (a cache refresh, a download, a stored file read from disk, a token looked up in the database, a rendering:
/// <see cref="LeaveAsync"/>, and the database interceptor before every call); connections to upstream come back to the
/// thread pool after every read and write (<see cref="ConnectAsync"/>), so parsing, rendering, hashing and storing never
/// run on a socket thread. Only with SQLite (see <see cref="ShouldRunInline"/>).
/// </para>
/// </summary>
public static class SocketThreads
{
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns inline completions on for this process unless the variable is set already (an operator's choice wins). It is
    /// read once, when the first socket is registered: call before anything opens one (the database, upstream, Kestrel).
    /// </summary>
    public static void EnableInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    /// <summary>
    /// Whether the serve command turns inline completions on: <see cref="CuratedIndexHost.InlineScheduling"/> (the key,
    /// SQLite) and a Kestrel server (a test host's in-memory server runs in the test runner's process, whose own sockets
    /// keep the default).
    /// </summary>
    public static bool ShouldRunInline(WebApplication app) =>
        CuratedIndexHost.InlineScheduling(app.Configuration)
        && app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().GetType().Assembly == typeof(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions).Assembly;

    /// <summary>
    /// Continues the caller on the thread pool when it runs on a socket thread (with inline completions, the epoll
    /// threads are the only threads besides the thread pool's that run request code); free elsewhere.
    /// </summary>
    public static ValueTask LeaveAsync() => Thread.CurrentThread.IsThreadPoolThread ? ValueTask.CompletedTask : YieldAsync();

    private static async ValueTask YieldAsync() => await Task.Yield();

    /// <summary>
    /// True for GET and HEAD of <c>/{env}/simple/…</c>, <c>/{env}/files/…</c> and <c>/{env}/pypi/…</c>: the requests that
    /// are answered from memory or a file and stay on the socket thread until they reach something slow.
    /// </summary>
    public static bool IsIndexRead(string method, string path)
    {
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            return false;
        }

        // Routing matches without regard to case; so does IndexKind.
        return IndexKind.Of(path) is IndexKind.Simple or IndexKind.Files or IndexKind.Json;
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that opens the connection as the default one does (TCP, no Nagle)
    /// and brings every read and write of it back to the thread pool.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            // The TLS handshake that follows (contexts, certificate stores) starts here: on the thread pool.
            await LeaveAsync();
            return new ThreadPoolStream(new NetworkStream(socket, ownsSocket: true));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// First in the pipeline: a request that is not an index read leaves the socket thread before anything else runs, and
    /// its bodies are wrapped so that a read or write that waited for the socket does not bring it back there.
    /// </summary>
    public sealed class LeaveMiddleware(RequestDelegate next)
    {
        public Task InvokeAsync(HttpContext context) =>
            IsIndexRead(context.Request.Method, context.Request.Path.Value ?? "") ? next(context) : OnThreadPoolAsync(context);

        private async Task OnThreadPoolAsync(HttpContext context)
        {
            await LeaveAsync();
            context.Request.Body = new ThreadPoolStream(context.Request.Body, ownsInner: false);
            context.Response.Body = new ThreadPoolStream(context.Response.Body, ownsInner: false);
            await next(context);
        }
    }

    /// <summary>A stream whose asynchronous reads, writes and flushes continue on the thread pool.</summary>
    internal sealed class ThreadPoolStream(Stream inner, bool ownsInner = true) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanWrite => inner.CanWrite;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            finally
            {
                // A failure too: its handling (logging, an error answer) goes on on the thread pool.
                await LeaveAsync();
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await inner.WriteAsync(buffer, cancellationToken);
            }
            finally
            {
                await LeaveAsync();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await inner.FlushAsync(cancellationToken);
            }
            finally
            {
                await LeaveAsync();
            }
        }

        // Kestrel's body streams take the APM methods asynchronously; Stream's defaults would call the synchronous ones.
        public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
            TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

        public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

        public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
            TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

        public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && ownsInner)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
