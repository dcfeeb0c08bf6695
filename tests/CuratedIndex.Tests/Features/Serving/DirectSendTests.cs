using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Serving;

/// <summary>
/// The connection layer that sends large bodies straight to the socket (pages from memory, the root list with sendfile):
/// over real Kestrel sockets, bodies arrive whole and in order on reused and pipelined connections, a client hanging up
/// mid-body leaves the server serving, and the bytes are the same with the layer off (<c>Server:DirectSend=false</c>).
/// </summary>
public sealed class DirectSendTests
{
    private const int RootNames = 60_000; // ~3 MB of HTML: several sendfile chunks, more than a socket buffer holds
    private const int BigReleases = 2_000; // ~330 KB rendered: a page sent from memory

    private static async Task<FakePyPI> StartUpstreamAsync()
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var root = new StringBuilder("<!DOCTYPE html>\n<html><body>\n");
        for (var i = 0; i < RootNames; i++)
        {
            root.Append(CultureInfo.InvariantCulture, $"<a href=\"/simple/project-{i:D6}/\">project-{i:D6}</a>\n");
        }

        root.Append("<a href=\"/simple/six/\">six</a>\n</body></html>\n");
        var page = new StringBuilder("<!DOCTYPE html>\n<html><body>\n");
        for (var i = 0; i < BigReleases; i++)
        {
            var filename = $"bigproject-1.{i}.0-py3-none-any.whl";
            page.Append(CultureInfo.InvariantCulture, $"<a href=\"../../packages/{filename}#sha256={i:x64}\">{filename}</a><br/>\n");
        }

        page.Append("</body></html>\n");
        upstream.Override["/simple/"] = context => Html(context, root.ToString());
        upstream.Override["/simple/bigproject/"] = context => Html(context, page.ToString());
        return upstream;

        static Task Html(HttpContext context, string body)
        {
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync(body);
        }
    }

    private static Task<ProxyInstance> StartProxyAsync(FakePyPI upstream, bool directSend = true) =>
        ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Server:DirectSend"] = directSend ? "true" : "false" });

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static string DigestTag(byte[] body) => $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"";

    [Fact]
    public async Task OneConnection_ManyAnswersOfEveryKind_EachArrivesWholeAndInOrder()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = proxy.BaseUrl };

        async Task<(HttpResponseMessage Response, byte[] Body)> GetAsync(string path, string? acceptEncoding = null, HttpMethod? method = null, string? ifNoneMatch = null)
        {
            using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
            if (acceptEncoding is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
            }

            if (ifNoneMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            }

            var response = await client.SendAsync(request);
            return (response, await response.Content.ReadAsByteArrayAsync());
        }

        for (var round = 0; round < 3; round++)
        {
            var (page, pageBody) = await GetAsync("dev/simple/bigproject/");
            var (small, smallBody) = await GetAsync("dev/simple/six/");
            var (rootGzip, rootGzipBody) = await GetAsync("dev/simple/", "gzip");
            var (head, headBody) = await GetAsync("dev/simple/bigproject/", method: HttpMethod.Head);
            var (notModified, _) = await GetAsync("dev/simple/bigproject/", ifNoneMatch: page.Headers.ETag!.Tag);
            var (root, rootBody) = await GetAsync("dev/simple/");
            var (file, fileBody) = await GetAsync("dev/files/six/six-1.17.0-py2.py3-none-any.whl");
            var (pageGzip, pageGzipBody) = await GetAsync("dev/simple/bigproject/", "gzip");

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.True(pageBody.Length > 256 * 1024, $"the page is only {pageBody.Length} bytes");
            Assert.Equal(DigestTag(pageBody), page.Headers.ETag.Tag);
            Assert.EndsWith("</html>\n", Encoding.UTF8.GetString(pageBody), StringComparison.Ordinal);
            Assert.Contains("six-1.17.0", Encoding.UTF8.GetString(smallBody), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
            Assert.True(rootBody.Length > 2 * 1024 * 1024, $"the root is only {rootBody.Length} bytes");
            Assert.Equal(DigestTag(rootBody), root.Headers.ETag!.Tag);
            Assert.Equal(rootBody, Gunzip(rootGzipBody));
            Assert.Equal(["gzip"], rootGzip.Content.Headers.ContentEncoding);
            Assert.Contains("<a href=\"project-059999/\">", Encoding.UTF8.GetString(rootBody), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(headBody);
            Assert.Equal(pageBody.Length, head.Content.Headers.ContentLength);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal(upstream.File("six-1.17.0-py2.py3-none-any.whl").Content, fileBody);
            Assert.Equal(pageBody, Gunzip(pageGzipBody));
        }

        Assert.Equal(1, connections);
    }

    [Fact]
    public async Task PipelinedRequests_AreAnsweredInOrderWithWholeBodies()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        // Each document once first, so that the pipelined answers are the cached renderings.
        var page = await proxy.Client.GetByteArrayAsync("dev/simple/bigproject/");
        var root = await proxy.Client.GetByteArrayAsync("dev/simple/");
        var small = await proxy.Client.GetByteArrayAsync("dev/simple/six/");

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, proxy.BaseUrl.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var host = $"127.0.0.1:{proxy.BaseUrl.Port}";
        var requests = string.Concat(
            $"GET /dev/simple/bigproject/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
            $"GET /dev/simple/six/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
            $"GET /dev/simple/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
            $"HEAD /dev/simple/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
            $"GET /dev/simple/bigproject/ HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip\r\n\r\n",
            $"GET /dev/simple/six/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests));

        var reader = new RawHttpReader(stream);
        Assert.Equal(page, (await reader.ReadAsync(head: false)).Body);
        Assert.Equal(small, (await reader.ReadAsync(head: false)).Body);
        Assert.Equal(root, (await reader.ReadAsync(head: false)).Body);
        var headAnswer = await reader.ReadAsync(head: true);
        Assert.Contains($"Content-Length: {root.Length}", headAnswer.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(page, Gunzip((await reader.ReadAsync(head: false)).Body));
        Assert.Equal(small, (await reader.ReadAsync(head: false)).Body);
        Assert.Equal(0, await stream.ReadAsync(new byte[1])); // Connection: close: the server closes after the last answer
    }

    [Fact]
    public async Task ClientHangingUpMidBody_LeavesTheServerServingWholeBodies()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var root = await proxy.Client.GetByteArrayAsync("dev/simple/");
        var page = await proxy.Client.GetByteArrayAsync("dev/simple/bigproject/");

        for (var i = 0; i < 5; i++)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
            await socket.ConnectAsync(IPAddress.Loopback, proxy.BaseUrl.Port);
            var path = i % 2 == 0 ? "/dev/simple/" : "/dev/simple/bigproject/";
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            var some = new byte[8 * 1024];
            Assert.True(await socket.ReceiveAsync(some) > 0);
            socket.Close(0); // reset, with most of the body unsent
        }

        Assert.Equal(root, await proxy.Client.GetByteArrayAsync("dev/simple/"));
        Assert.Equal(page, await proxy.Client.GetByteArrayAsync("dev/simple/bigproject/"));
    }

    [Fact]
    public async Task SlowReader_GetsEveryByteOfTheRootList()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var expected = await proxy.Client.GetByteArrayAsync("dev/simple/");

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 32 * 1024 };
        await socket.ConnectAsync(IPAddress.Loopback, proxy.BaseUrl.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /dev/simple/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        // Small reads with pauses: the server's sends wait on a full socket buffer many times over.
        var answer = await new RawHttpReader(stream, readSize: 16 * 1024, pause: TimeSpan.FromMilliseconds(1)).ReadAsync(head: false);

        Assert.Equal(expected, answer.Body);
    }

    [Fact]
    public async Task LargeDocuments_GoStraightToTheSocket_FromDocumentFilesAndFiles()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        await using var off = await StartProxyAsync(upstream, directSend: false);
        using var bodies = new BodiesSentListener(proxy.Services.GetRequiredService<IMeterFactory>(), off.Services.GetRequiredService<IMeterFactory>());

        // A large page (document file), its gzip copy, the root list (file), a large JSON page, and a small page (through Kestrel).
        await proxy.Client.GetByteArrayAsync("dev/simple/bigproject/");
        using var gzip = new HttpRequestMessage(HttpMethod.Get, "dev/simple/bigproject/");
        gzip.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        (await proxy.Client.SendAsync(gzip)).Dispose();
        await proxy.Client.GetByteArrayAsync("dev/simple/");
        using var json = new HttpRequestMessage(HttpMethod.Get, "dev/simple/bigproject/");
        json.Headers.TryAddWithoutValidation("Accept", "application/vnd.pypi.simple.v1+json");
        var jsonBody = await (await proxy.Client.SendAsync(json)).Content.ReadAsByteArrayAsync();
        var sentBeforeSmall = bodies.Count;
        await proxy.Client.GetByteArrayAsync("dev/simple/six/");
        var sentBeforeOff = bodies.Count;
        await off.Client.GetByteArrayAsync("dev/simple/bigproject/");
        await off.Client.GetByteArrayAsync("dev/simple/");

        Assert.Equal(BigReleases, System.Text.Json.Nodes.JsonNode.Parse(jsonBody)!["files"]!.AsArray().Count);
        Assert.Equal(4, sentBeforeSmall);
        Assert.Equal(3, bodies.From("file")); // the page, its JSON twin (document files) and the root list, with sendfile
        Assert.Equal(1, bodies.From("memory")); // the page's gzip copy: over 16 KB, under the 64 KB of a document file
        Assert.Equal(sentBeforeSmall, sentBeforeOff); // a small page goes through Kestrel
        Assert.Equal(sentBeforeOff, bodies.Count); // with the layer off, nothing is handed over
    }

    [Fact]
    public async Task KestrelTerminatingTls_ConnectionsAreLeftAloneAndAnswerWholeOverHttp11AndHttp2()
    {
        await using var upstream = await StartUpstreamAsync();
        var directory = Directory.CreateTempSubdirectory("curated-index-tls-").FullName;
        try
        {
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var pfx = Path.Combine(directory, "tls.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "test"));
            await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
            {
                ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = pfx,
                ["Kestrel:Endpoints:Https:Certificate:Password"] = "test",
            });
            using var bodies = new BodiesSentListener(proxy.Services.GetRequiredService<IMeterFactory>());
            Assert.Equal("https", proxy.BaseUrl.Scheme);
            using var handler = new SocketsHttpHandler();
            var thumbprint = certificate.GetCertHashString();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == thumbprint; // this test's own certificate only
            using var client = new HttpClient(handler) { BaseAddress = proxy.BaseUrl };

            var http11 = await client.GetByteArrayAsync("dev/simple/bigproject/");
            using var http2Request = new HttpRequestMessage(HttpMethod.Get, "dev/simple/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var http2 = await client.SendAsync(http2Request);
            var root = await http2.Content.ReadAsByteArrayAsync();

            Assert.Equal(DigestTag(http11), RenderedPageTag(await client.GetAsync("dev/simple/bigproject/")));
            Assert.EndsWith("</html>\n", Encoding.UTF8.GetString(http11), StringComparison.Ordinal);
            Assert.Equal(HttpVersion.Version20, http2.Version);
            Assert.Equal(DigestTag(root), http2.Headers.ETag!.Tag);
            Assert.Equal(0, bodies.Count); // under TLS the layer stays out of the way
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        static string RenderedPageTag(HttpResponseMessage response)
        {
            using (response)
            {
                return response.Headers.ETag!.Tag;
            }
        }
    }

    [Fact]
    public async Task Http10Request_GetsTheWholeBodyAndTheConnectionCloses()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var page = await proxy.Client.GetByteArrayAsync("dev/simple/bigproject/");

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, proxy.BaseUrl.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /dev/simple/bigproject/ HTTP/1.0\r\n\r\n"));
        var answer = await new RawHttpReader(stream).ReadAsync(head: false);

        Assert.StartsWith("HTTP/1.1 200", answer.Head, StringComparison.Ordinal);
        Assert.Equal(page, answer.Body);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]));
    }

    [Fact]
    public async Task WithTheLayerOff_TheSameBytesAndValidatorsAreSent()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var on = await StartProxyAsync(upstream);
        await using var off = await StartProxyAsync(upstream, directSend: false);

        foreach (var (path, encoding) in new[] { ("dev/simple/bigproject/", ""), ("dev/simple/bigproject/", "gzip"), ("dev/simple/", ""), ("dev/simple/", "gzip") })
        {
            using var onRequest = new HttpRequestMessage(HttpMethod.Get, path);
            using var offRequest = new HttpRequestMessage(HttpMethod.Get, path);
            if (encoding.Length > 0)
            {
                onRequest.Headers.TryAddWithoutValidation("Accept-Encoding", encoding);
                offRequest.Headers.TryAddWithoutValidation("Accept-Encoding", encoding);
            }

            using var withLayer = await on.Client.SendAsync(onRequest);
            using var withoutLayer = await off.Client.SendAsync(offRequest);
            var body = await withLayer.Content.ReadAsByteArrayAsync();
            var bodyOff = await withoutLayer.Content.ReadAsByteArrayAsync();
            Assert.Equal(withoutLayer.Headers.ETag, withLayer.Headers.ETag);
            Assert.Equal(encoding.Length > 0 ? Gunzip(bodyOff) : bodyOff, encoding.Length > 0 ? Gunzip(body) : body);
        }
    }

    /// <summary>Counts <c>curated_index.direct_send.bodies</c> measurements of the given proxies (each has its own meter).</summary>
    private sealed class BodiesSentListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _bySource = new();

        public BodiesSentListener(params IMeterFactory[] proxies)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (proxies.Any(p => ReferenceEquals(instrument.Meter.Scope, p)) && instrument.Name == "curated_index.direct_send.bodies")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "source")
                    {
                        _bySource.AddOrUpdate((string)tag.Value!, value, (_, total) => total + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => _bySource.Values.Sum();

        public long From(string source) => _bySource.GetValueOrDefault(source);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Reads HTTP/1.1 answers with a Content-Length off a stream, one after the other.</summary>
    private sealed class RawHttpReader(Stream stream, int readSize = 64 * 1024, TimeSpan? pause = null)
    {
        private readonly MemoryStream _pending = new();

        public async Task<(string Head, byte[] Body)> ReadAsync(bool head)
        {
            int end;
            while ((end = IndexOfHeadEnd()) < 0)
            {
                await FillAsync();
            }

            var buffered = _pending.ToArray();
            var text = Encoding.ASCII.GetString(buffered, 0, end);
            var lengthLine = text.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = head ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            var bodyStart = end + 4;
            while (_pending.Length < bodyStart + length)
            {
                await FillAsync();
            }

            buffered = _pending.ToArray();
            var body = buffered.AsSpan(bodyStart, length).ToArray();
            _pending.SetLength(0);
            _pending.Write(buffered, bodyStart + length, buffered.Length - bodyStart - length);
            return (text, body);
        }

        private int IndexOfHeadEnd() => _pending.ToArray().AsSpan().IndexOf("\r\n\r\n"u8);

        private async Task FillAsync()
        {
            var chunk = new byte[readSize];
            var read = await stream.ReadAsync(chunk);
            if (read == 0)
            {
                throw new EndOfStreamException($"the connection closed with {_pending.Length} bytes of an answer read");
            }

            _pending.Write(chunk, 0, read);
            if (pause is { } delay)
            {
                await Task.Delay(delay);
            }
        }
    }
}
