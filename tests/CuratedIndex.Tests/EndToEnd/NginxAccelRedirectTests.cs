using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// A real nginx in front of CuratedIndex with <c>Storage:FileSystem:AccelRedirectPrefix</c>, configured with the server
/// block README.md gives (read from the README, so the documented text is the tested text): nginx sends the stored
/// files itself, with Range, the artifact's headers, and its internal location closed to clients.
/// </summary>
[Trait("Category", "EndToEnd")]
[UnsupportedOSPlatform("windows")]
public sealed class NginxAccelRedirectTests
{
    private const string NginxPath = "/usr/sbin/nginx";
    private const string Prefix = "/_curated_index_artifacts/";
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    [Fact]
    public async Task ReadmeServerBlock_NginxSendsStoredFilesWithRangeAndTheirHeaders_InternalLocationIsNotFound()
    {
        Assert.True(File.Exists(NginxPath), $"{NginxPath} is missing: ./test.sh installs it (apt-get install nginx)");
        await using var upstream = await FakePyPI.StartAsync();
        var sdistBytes = new byte[3 * 1024 * 1024 + 17];
        new Random(13).NextBytes(sdistBytes);
        var sdist = upstream.AddFileWithoutMetadata("demo", "demo-1.0.tar.gz", sdistBytes);
        var built = WheelBuilder.Build("demo", "1.0+local");
        var wheel = upstream.AddFile("demo", built.Filename, built.Content);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Storage:FileSystem:AccelRedirectPrefix"] = Prefix,
        });
        // nginx started as root reads files as www-data; the instance's temporary root is created 0700.
        File.SetUnixFileMode(proxy.Root, Readable);
        var artifacts = Directory.CreateDirectory(Path.Combine(proxy.Root, "data", "artifacts")).FullName;
        await using var nginx = await NginxServer.StartAsync(ReadmeServerBlock(), proxy.BaseUrl.Port, artifacts);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = nginx.BaseUrl };
        var sdistUrl = $"dev/files/demo/{sdist.Filename}";
        var wheelUrl = $"dev/files/demo/{wheel.Filename}";

        using var firstDownload = await client.GetAsync(sdistUrl);
        using var direct = await proxy.Client.GetAsync(sdistUrl);
        using var stored = await client.GetAsync(sdistUrl);
        var ranged = new HttpRequestMessage(HttpMethod.Get, sdistUrl);
        ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var range = await client.SendAsync(ranged);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, sdistUrl));
        var conditional = new HttpRequestMessage(HttpMethod.Get, sdistUrl);
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sdist.Sha256}\""));
        using var notModified = await client.SendAsync(conditional);
        var wheelFirst = await client.GetByteArrayAsync(wheelUrl);
        var wheelStored = await client.GetByteArrayAsync(wheelUrl);
        await client.GetByteArrayAsync(wheelUrl + ".metadata");
        var metadataStored = await client.GetByteArrayAsync(wheelUrl + ".metadata");
        using var internalLocation = await client.GetAsync($"{Prefix}files/{sdist.Sha256[..2]}/{sdist.Sha256}/{sdist.Filename}");

        var error = nginx.ErrorLog();
        Assert.Equal(HttpStatusCode.OK, firstDownload.StatusCode);
        Assert.Equal(sdist.Sha256, Sha256(await firstDownload.Content.ReadAsByteArrayAsync()));
        // CuratedIndex itself answers with the redirect and no body: the bytes below come from nginx.
        Assert.Equal([$"{Prefix}files/{sdist.Sha256[..2]}/{sdist.Sha256}/{sdist.Filename}"], direct.Headers.GetValues("X-Accel-Redirect"));
        Assert.Empty(await direct.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(sdist.Sha256, Sha256(await stored.Content.ReadAsByteArrayAsync()));
        Assert.Equal(sdistBytes.Length, stored.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", stored.Content.Headers.ContentType!.ToString());
        Assert.Equal("max-age=365000000, immutable, public", stored.Headers.NonValidated["Cache-Control"].ToString());
        Assert.Equal($"\"{sdist.Sha256}\"", stored.Headers.NonValidated["ETag"].ToString());
        Assert.Equal("*", stored.Headers.NonValidated["Access-Control-Allow-Origin"].ToString());
        Assert.Equal("nosniff", stored.Headers.NonValidated["X-Content-Type-Options"].ToString());
        Assert.Equal("sandbox", stored.Headers.NonValidated["Content-Security-Policy"].ToString());
        Assert.False(stored.Headers.Contains("X-Accel-Redirect"), "nginx passed X-Accel-Redirect on to the client");
        Assert.StartsWith("nginx", stored.Headers.Server.ToString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(sdistBytes[1000..2000], await range.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 1000-1999/{sdistBytes.Length}", range.Content.Headers.ContentRange!.ToString());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(sdistBytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        // '+' travels percent-encoded in X-Accel-Redirect; nginx decodes it before it opens the file.
        Assert.Equal(wheel.Content, wheelFirst);
        Assert.Equal(wheel.Content, wheelStored);
        Assert.Equal(wheel.Metadata, metadataStored);
        Assert.Equal(1, upstream.HitsOn($"/packages/{sdist.Filename}"));

        Assert.Equal(HttpStatusCode.NotFound, internalLocation.StatusCode);
        Assert.DoesNotContain("[crit]", error, StringComparison.Ordinal);
        Assert.DoesNotContain("[error]", error, StringComparison.Ordinal);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    // The ```nginx block under README.md's "Behind nginx: X-Accel-Redirect".
    private static string ReadmeServerBlock()
    {
        var readme = File.ReadAllText(Path.Combine(Features.Audit.AuditIntegrationTests.RepositoryRoot(), "README.md"));
        var section = readme.IndexOf("### Behind nginx: X-Accel-Redirect", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no \"Behind nginx: X-Accel-Redirect\" section");
        var start = readme.IndexOf("```nginx\n", section, StringComparison.Ordinal) + "```nginx\n".Length;
        var end = readme.IndexOf("```", start, StringComparison.Ordinal);
        return readme[start..end];
    }

    /// <summary>nginx in the foreground on a free loopback port, with every path it writes in its own temporary directory.</summary>
    private sealed class NginxServer : IAsyncDisposable
    {
        private readonly ExternalProcess _process;
        private readonly string _directory;

        private NginxServer(ExternalProcess process, string directory, Uri baseUrl)
        {
            _process = process;
            _directory = directory;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }

        public string ErrorLog() => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "";

        /// <summary>Starts nginx with <paramref name="serverBlock"/>, its documented port, upstream and alias replaced by these.</summary>
        public static async Task<NginxServer> StartAsync(string serverBlock, int curatedIndexPort, string artifacts)
        {
            var port = FreePort();
            var configured = Replace(serverBlock, "server 127.0.0.1:8080;", $"server 127.0.0.1:{curatedIndexPort};");
            configured = Replace(configured, "listen 80;", $"listen 127.0.0.1:{port};");
            configured = Replace(configured, "alias /srv/curated-index/data/artifacts/;", $"alias {artifacts}/;");
            var directory = Directory.CreateTempSubdirectory("curated-nginx-").FullName;
            File.SetUnixFileMode(directory, Readable);
            var config = Path.Combine(directory, "nginx.conf");
            var temp = Directory.CreateDirectory(Path.Combine(directory, "temp")).FullName;
            await File.WriteAllTextAsync(config, $$"""
                daemon off;
                worker_processes 1;
                pid {{directory}}/nginx.pid;
                error_log {{directory}}/error.log warn;
                events { worker_connections 64; }
                http {
                    default_type application/octet-stream;
                    access_log off;
                    sendfile on;
                    client_body_temp_path {{temp}}/body;
                    proxy_temp_path {{temp}}/proxy;
                    fastcgi_temp_path {{temp}}/fastcgi;
                    uwsgi_temp_path {{temp}}/uwsgi;
                    scgi_temp_path {{temp}}/scgi;
                {{configured}}
                }
                """);
            var process = ExternalProcess.Start(NginxPath, ["-p", directory, "-c", config, "-e", Path.Combine(directory, "error.log")], directory);
            var server = new NginxServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
            try
            {
                await server.WaitUntilServingAsync();
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        private async Task WaitUntilServingAsync()
        {
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                try
                {
                    using var health = await client.GetAsync(new Uri(BaseUrl, "healthz"));
                    if (health.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (_process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"nginx did not proxy /healthz ({(_process.HasExited ? "it exited" : "not within 20 s")})\n{_process.CommandLine}\n{ErrorLog()}");
                }

                await Task.Delay(100);
            }
        }

        private static string Replace(string text, string documented, string replacement)
        {
            Assert.True(text.Split(documented).Length == 2, $"README.md's nginx server block must contain '{documented}' exactly once");
            return text.Replace(documented, replacement, StringComparison.Ordinal);
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            await _process.DisposeAsync();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by an exiting worker; the temporary directory is cleaned by the OS later.
            }
        }
    }
}
