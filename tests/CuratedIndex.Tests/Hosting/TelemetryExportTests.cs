using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// The built executable exports metrics and traces over OTLP/HTTP (protobuf) to the endpoint in
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, here a receiver this test runs on a free loopback port; without that variable it
/// sends nothing, even with the signal-specific endpoints set.
/// </summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task Executable_WithOtlpEndpoint_ExportsTheDocumentedMetricsAndAServerSpanForTheRequest_WithoutItSendsNothing()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();

        await using (var exporting = await ServerAsync(upstream, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.BaseUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        }))
        {
            await exporting.GetAsync("dev/simple/six/", HttpStatusCode.OK);
            await exporting.GetAsync("ci/simple/six/", HttpStatusCode.OK);
            await exporting.GetAsync("dev/files/six/six-1.17.0-py2.py3-none-any.whl", HttpStatusCode.OK);

            var spans = await receiver.WaitForAsync(
                () => receiver.Spans().ToList(),
                // Spans are exported as they end, in batches: the store write ends after the download it belongs to.
                found => found.Any(s => s.Kind == OtlpReceiver.ServerKind && s.Attributes.GetValueOrDefault("url.path") == "/dev/simple/six/")
                         && found.Any(s => s.Name == "curated_index.upstream.fetch") && found.Any(s => s.Name == "curated_index.store.write"),
                exporting);
            var metrics = await receiver.WaitForAsync(
                () => receiver.MetricNames().ToHashSet(StringComparer.Ordinal),
                found => found.Contains("curated_index.index.hidden") && found.Contains("http.server.request.duration"),
                exporting);

            var page = spans.First(s => s.Kind == OtlpReceiver.ServerKind && s.Attributes.GetValueOrDefault("url.path") == "/dev/simple/six/");
            Assert.Equal("GET /{env}/simple/{project}", page.Name);
            // The decision, the upstream page, the upstream file and the store write are spans of the same traces.
            Assert.Contains(spans, s => s.Name == "curated_index.decision" && s.TraceId == page.TraceId && s.Attributes.GetValueOrDefault("curated_index.decision.rule") == "allowed");
            Assert.Contains(spans, s => s.Name == "curated_index.upstream.page" && s.TraceId == page.TraceId);
            var fetch = spans.Single(s => s.Name == "curated_index.upstream.fetch");
            Assert.Contains(spans, s => s.Name == "curated_index.store.write" && s.TraceId == fetch.TraceId);
            Assert.Contains(spans, s => s.Kind == OtlpReceiver.ClientKind && s.TraceId == page.TraceId);
            Assert.DoesNotContain(spans, s => s.Attributes.GetValueOrDefault("url.path") is "/healthz" or "/readyz");
            foreach (var name in new[]
                     {
                         "curated_index.index.requests", "curated_index.index.hidden", "curated_index.cache.lookups",
                         "curated_index.upstream.duration", "http.server.request.duration", "http.client.request.duration",
                         "dotnet.gc.heap.total_allocated",
                     })
            {
                Assert.Contains(name, metrics);
            }

            Assert.Equal("curated-index", receiver.ResourceAttribute("service.name"));
            // One instance per node: host name and process id, as the start-up log line says.
            var instance = receiver.ResourceAttribute("service.instance.id");
            Assert.Matches(@"^.+/[0-9]+$", instance);
            Assert.Contains($"as service curated-index, instance {instance}", exporting.Process.OutputSoFar, StringComparison.Ordinal);
        }

        receiver.Clear();
        await using (var silent = await ServerAsync(upstream, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            // Only the general endpoint turns export on: the signal-specific ones alone do not (they would be honoured by an exporter if there were one).
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = receiver.BaseUrl + "/v1/traces",
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = receiver.BaseUrl + "/v1/metrics",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        }))
        {
            await silent.GetAsync("dev/simple/six/", HttpStatusCode.OK);
            // Ten export intervals and schedule delays pass (both are set to a fraction of a second below).
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.DoesNotContain("Telemetry: metrics and traces are exported", silent.Process.OutputSoFar, StringComparison.Ordinal);
        }

        Assert.Equal(0, receiver.Requests);
    }

    private static async Task<RunningServer> ServerAsync(FakePyPI upstream, Dictionary<string, string?> otel)
    {
        var root = Directory.CreateTempSubdirectory("curated-index-otel-").FullName;
        var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
        await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n  ci: { tier: 2 }\n");
        var port = ExecutableTests.FreePort();
        var environment = new Dictionary<string, string?>(otel)
        {
            ["DOTNET_ENVIRONMENT"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
            ["OTEL_SERVICE_NAME"] = null,
            ["OTEL_RESOURCE_ATTRIBUTES"] = null,
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        var process = ExternalProcess.Start(
            ExecutableTests.Executable(),
            [
                $"--contentRoot={root}", $"--Urls=http://127.0.0.1:{port}", "--Jobs:Enabled=false",
                $"--Upstream:Url={upstream.BaseUrl}", $"--Upstream:FileHosts:0={upstream.BaseUrl.Authority}",
                "--ReverseProxy:Clusters:upstream:HealthCheck:Active:Enabled=false",
            ],
            root,
            environment);
        var server = new RunningServer(process, new Uri($"http://127.0.0.1:{port}/"), root);
        await server.WaitUntilReadyAsync();
        return server;
    }

    private sealed class RunningServer(ExternalProcess process, Uri baseUrl, string root) : IAsyncDisposable
    {
        private readonly HttpClient _client = new() { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

        public ExternalProcess Process { get; } = process;

        public Task WaitUntilReadyAsync() => Process.WaitUntilAnswersAsync(new Uri(_client.BaseAddress!, "readyz"));

        public async Task GetAsync(string path, HttpStatusCode expected)
        {
            using var response = await _client.GetAsync(path);
            Assert.True(response.StatusCode == expected, $"GET {path}: {(int)response.StatusCode}");
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await Process.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// An OTLP/HTTP receiver (<c>POST /v1/metrics</c>, <c>POST /v1/traces</c>, protobuf) that keeps every request body and
    /// reads the few fields the test needs with a small protobuf field reader (OTLP's .proto field numbers).
    /// </summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        public const long ServerKind = 2;
        public const long ClientKind = 3;

        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _bodies = new();
        private int _requests;

        private OtlpReceiver(WebApplication app) => _app = app;

        public string BaseUrl { get; private set; } = "";

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<OtlpReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new OtlpReceiver(app);
            foreach (var path in new[] { "/v1/metrics", "/v1/traces" })
            {
                app.MapPost(path, async (HttpContext context) =>
                {
                    Interlocked.Increment(ref receiver._requests);
                    using var body = new MemoryStream();
                    await context.Request.Body.CopyToAsync(body);
                    receiver._bodies.Enqueue((path, body.ToArray()));
                    context.Response.ContentType = "application/x-protobuf";
                });
            }

            await app.StartAsync();
            receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return receiver;
        }

        public void Clear()
        {
            _bodies.Clear();
            Interlocked.Exchange(ref _requests, 0);
        }

        public async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done, RunningServer server)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var value = read();
                if (done(value))
                {
                    return value;
                }

                Assert.True(DateTime.UtcNow < deadline, $"not received in 60 s ({Requests} OTLP requests): {server.Process.OutputSoFar}");
                await Task.Delay(200);
            }
        }

        public sealed record Span(string Name, long Kind, string TraceId, IReadOnlyDictionary<string, string> Attributes);

        // ExportTraceServiceRequest: resource_spans = 1; ResourceSpans: scope_spans = 2; ScopeSpans: spans = 2;
        // Span: trace_id = 1, name = 5, kind = 6, attributes = 9.
        public IEnumerable<Span> Spans() =>
            from body in Bodies("/v1/traces")
            from resourceSpans in Protobuf.Messages(body, 1)
            from scopeSpans in Protobuf.Messages(resourceSpans, 2)
            from span in Protobuf.Messages(scopeSpans, 2)
            select new Span(
                Protobuf.String(span, 5) ?? "",
                Protobuf.Varint(span, 6) ?? 0,
                Convert.ToHexStringLower(Protobuf.Messages(span, 1).FirstOrDefault().Span),
                Attributes(span, 9));

        // ExportMetricsServiceRequest: resource_metrics = 1; ResourceMetrics: scope_metrics = 2; ScopeMetrics: metrics = 2; Metric: name = 1.
        public IEnumerable<string> MetricNames() =>
            from body in Bodies("/v1/metrics")
            from resourceMetrics in Protobuf.Messages(body, 1)
            from scopeMetrics in Protobuf.Messages(resourceMetrics, 2)
            from metric in Protobuf.Messages(scopeMetrics, 2)
            select Protobuf.String(metric, 1) ?? "";

        // ResourceMetrics/ResourceSpans: resource = 1; Resource: attributes = 1.
        public string? ResourceAttribute(string key) =>
            (from body in Bodies("/v1/metrics")
             from resourceMetrics in Protobuf.Messages(body, 1)
             from resource in Protobuf.Messages(resourceMetrics, 1)
             select Attributes(resource, 1).GetValueOrDefault(key)).FirstOrDefault(v => v is not null);

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private List<ReadOnlyMemory<byte>> Bodies(string path) => _bodies.Where(b => b.Path == path).Select(b => (ReadOnlyMemory<byte>)b.Body).ToList();

        // KeyValue: key = 1, value = 2; AnyValue: string_value = 1, bool_value = 2, int_value = 3.
        private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int field)
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in Protobuf.Messages(message, field))
            {
                var value = Protobuf.Messages(pair, 2).FirstOrDefault();
                attributes[Protobuf.String(pair, 1) ?? ""] = Protobuf.String(value, 1) ?? Protobuf.Varint(value, 3)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? (Protobuf.Varint(value, 2) is { } flag ? (flag != 0).ToString() : "");
            }

            return attributes;
        }
    }

    /// <summary>Reads protobuf fields by number: length-delimited ones as bytes (messages, strings) and varints.</summary>
    private static class Protobuf
    {
        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Field == field && f.WireType == 2).Select(f => f.Bytes);

        public static string? String(ReadOnlyMemory<byte> message, int field) =>
            Messages(message, field).Select(b => Encoding.UTF8.GetString(b.Span)).FirstOrDefault();

        public static long? Varint(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Field == field && f.WireType == 0).Select(f => (long?)f.Varint).FirstOrDefault();

        private static List<(int Field, int WireType, ulong Varint, ReadOnlyMemory<byte> Bytes)> Fields(ReadOnlyMemory<byte> message)
        {
            var fields = new List<(int, int, ulong, ReadOnlyMemory<byte>)>();
            var position = 0;
            while (position < message.Length)
            {
                var key = ReadVarint(message.Span, ref position);
                var (field, wireType) = ((int)(key >> 3), (int)(key & 7));
                switch (wireType)
                {
                    case 0:
                        fields.Add((field, wireType, ReadVarint(message.Span, ref position), default));
                        break;
                    case 1:
                        fields.Add((field, wireType, 0, message.Slice(position, 8)));
                        position += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(message.Span, ref position);
                        fields.Add((field, wireType, 0, message.Slice(position, length)));
                        position += length;
                        break;
                    case 5:
                        fields.Add((field, wireType, 0, message.Slice(position, 4)));
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"protobuf wire type {wireType} at byte {position}");
                }
            }

            return fields;
        }

        private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
