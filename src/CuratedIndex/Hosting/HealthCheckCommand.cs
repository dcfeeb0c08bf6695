using System.Net;

namespace CuratedIndex.Hosting;

/// <summary>
/// <c>curated-index healthcheck [--url URL]</c>: one GET, exit 0 when it answers 200 and 1 otherwise, with one line.
/// The container image's HEALTHCHECK runs it, since the ASP.NET Core runtime image has neither curl nor wget.
/// </summary>
internal static class HealthCheckCommand
{
    /// <summary>The liveness endpoint where the container image listens (docker/Dockerfile: <c>Urls=http://+:8080</c>).</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080/healthz";

    /// <summary>Shorter than the image's HEALTHCHECK --timeout (5 s), so that the check says why instead of being killed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    public static async Task<int> RunAsync(string? url, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        url ??= DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"error: --url '{url}' is not an absolute http or https URL");
            return 2;
        }

        // No proxy (a container's HTTP_PROXY must not carry a loopback check elsewhere), no redirects: the URL named answers.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await output.WriteLineAsync($"healthy: GET {uri} answered 200");
                return 0;
            }

            await error.WriteLineAsync($"unhealthy: GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"unhealthy: GET {uri} failed: {e.Message}");
            return 1;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"unhealthy: GET {uri} did not answer within {Timeout.TotalSeconds:0} s");
            return 1;
        }
    }
}
