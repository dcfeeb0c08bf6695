namespace CuratedIndex.Hosting;

/// <summary>
/// Refuses request targets with traversal or encoding tricks before routing sees them. Kestrel would
/// quietly resolve <c>..</c> and <c>%2e%2e</c>; we answer 400 with the reason instead, so that nothing
/// built from a path (a project name, a filename, a store key) can ever carry such a sequence.
/// </summary>
public sealed class PathGuardMiddleware(RequestDelegate next, ILogger<PathGuardMiddleware> logger)
{
    public const int MaxTargetLength = 2048;

    public Task InvokeAsync(HttpContext context)
    {
        var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var reason = Refusal(target);
        if (reason is null)
        {
            return next(context);
        }

        HostingLog.PathRefused(logger, reason);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"refused: {reason}\n");
    }

    /// <summary>Why a raw request target is refused, or null when it is acceptable.</summary>
    public static string? Refusal(string target)
    {
        if (target.Length > MaxTargetLength)
        {
            return $"the request target is longer than {MaxTargetLength} characters";
        }

        var path = target.Split('?', 2)[0];
        if (path.Contains('\\') || path.Contains("%5c", StringComparison.OrdinalIgnoreCase))
        {
            return "the path contains a backslash";
        }

        if (path.Contains("%2e", StringComparison.OrdinalIgnoreCase))
        {
            return "the path contains an encoded '.'";
        }

        if (path.Contains("%2f", StringComparison.OrdinalIgnoreCase))
        {
            return "the path contains an encoded '/'";
        }

        if (path.Contains("%00", StringComparison.Ordinal) || path.Any(char.IsControl))
        {
            return "the path contains a control character";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                return "the path contains a '.' or '..' segment";
            }
        }

        return null;
    }
}
