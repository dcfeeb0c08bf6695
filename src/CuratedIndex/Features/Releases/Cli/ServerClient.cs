using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CuratedIndex.Features.Releases.Cli;

/// <summary>A problem that stops a client command: one line for standard error, exit code 2.</summary>
public sealed class ServerClientException(string message) : Exception(message);

/// <summary>A server's answer: its status, the JSON body (null when there is none) and the body's <c>message</c>.</summary>
public sealed record ApiAnswer(HttpStatusCode Status, JsonNode? Json, byte[] Body)
{
    public bool Ok => Status == HttpStatusCode.OK;

    /// <summary>The server's one-line reason (<c>{"message": "…"}</c>), or the status when it gave none.</summary>
    public string Message => Json is JsonObject o && o["message"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : $"{(int)Status} {Status}";
}

/// <summary>
/// The command line's way to a CuratedIndex server's <c>/api/v1/</c>: <c>--server</c>/<c>--token</c>, or
/// <c>CURATED_INDEX_URL</c>/<c>CURATED_INDEX_TOKEN</c>. What stops a command (no server, no token, 401, 403, a server
/// that cannot be reached or does not answer like CuratedIndex) is a <see cref="ServerClientException"/> with one line;
/// every other answer goes back to the command, which knows what a 404 or a 409 means for it.
/// </summary>
public sealed class ServerClient : IDisposable
{
    public const string UrlVariable = "CURATED_INDEX_URL";
    public const string TokenVariable = "CURATED_INDEX_TOKEN";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly HttpClient _http;

    private ServerClient(Uri server, string token)
    {
        Server = server;
        // No redirects: a token is sent to the server named and nowhere else.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = server, Timeout = Timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("curated-index-cli");
    }

    public Uri Server { get; }

    /// <summary>The client for the options given, else the environment variables; a one-line refusal when either is missing or wrong.</summary>
    public static ServerClient Create(string? server, string? token, TextWriter error)
    {
        server = string.IsNullOrWhiteSpace(server) ? Environment.GetEnvironmentVariable(UrlVariable) : server;
        token = string.IsNullOrWhiteSpace(token) ? Environment.GetEnvironmentVariable(TokenVariable) : token;
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new ServerClientException($"no server: give --server URL or set {UrlVariable}");
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            throw new ServerClientException($"no token: give --token TOKEN or set {TokenVariable} (an API token from /ui/tokens)");
        }

        server = server.Trim();
        if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ServerClientException($"the server URL '{server}' is not an http or https URL (e.g. https://pypi.example.org/)");
        }

        token = token.Trim();
        if (token.Any(c => char.IsControl(c) || c == ' '))
        {
            throw new ServerClientException("the token has spaces or control characters");
        }

        if (uri.Scheme == "http" && !uri.IsLoopback)
        {
            error.WriteLine($"warning: the token is sent to {uri.Host} over plain http; use https");
        }

        return new ServerClient(uri, token);
    }

    public Task<ApiAnswer> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<ApiAnswer> PostJsonAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, new StringContent(JsonSerializer.Serialize(body, JsonOptions), System.Text.Encoding.UTF8, "application/json"), cancellationToken);

    public Task<ApiAnswer> PostBytesAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(HttpMethod.Post, path, content, cancellationToken);
    }

    /// <summary><paramref name="path"/> is relative to <c>/api/v1/</c>, with its query already escaped.</summary>
    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, "api/v1/" + path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ServerClientException($"cannot reach the server at {Server}: {Innermost(e).Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerClientException($"the server at {Server} did not answer within {Timeout.TotalSeconds:0}s");
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            JsonNode? json = null;
            if (response.Content.Headers.ContentType?.MediaType == "application/json" && body.Length > 0)
            {
                try
                {
                    json = JsonNode.Parse(body);
                }
                catch (JsonException)
                {
                    json = null;
                }
            }

            var answer = new ApiAnswer(response.StatusCode, json, body);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized:
                    throw new ServerClientException($"the server refused the token (401 unauthorized): check --token or {TokenVariable}");
                case HttpStatusCode.Forbidden:
                    throw new ServerClientException($"the token's account may not {method.Method} /api/v1/{path.Split('?')[0]} (403 forbidden): {Role(method, path)}");
                case >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest:
                    throw new ServerClientException($"the server answered {(int)response.StatusCode} (a redirect to {response.Headers.Location}): give --server as the URL the API is served at");
            }

            if (json is null)
            {
                throw new ServerClientException($"{Server} did not answer like a CuratedIndex server ({(int)response.StatusCode}, {response.Content.Headers.ContentType?.MediaType ?? "no content type"}) for /api/v1/{path.Split('?')[0]}");
            }

            return answer;
        }
    }

    private static string Role(HttpMethod method, string path) =>
        method == HttpMethod.Get ? "it needs the viewer role"
        : path.StartsWith("vettings/import", StringComparison.Ordinal) || path.Contains("/releases/", StringComparison.Ordinal) || path.EndsWith("/approve", StringComparison.Ordinal)
            ? "it needs the reviewer role (break-glass: admin)"
            : "it needs a stronger role";

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public void Dispose() => _http.Dispose();
}
