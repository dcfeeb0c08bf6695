namespace CuratedIndex.Hosting;

/// <summary>
/// Turns a request the framework could not bind (malformed JSON, a number where text belongs, an unsupported
/// content type) into a 4xx with a one-line reason: JSON <c>{"message"}</c> under <c>/api/</c>, plain text elsewhere.
/// Without it those answers carry no body at all. Binding throws instead of answering because
/// <see cref="RouteHandlerOptions.ThrowOnBadRequest"/> is set with this middleware.
/// </summary>
public sealed class BadRequestMiddleware(RequestDelegate next, ILogger<BadRequestMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status415UnsupportedMediaType && !context.Response.HasStarted)
            {
                // Binding refuses a non-JSON body by setting 415 without throwing.
                await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "invalid request: send the body as application/json");
            }
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e.StatusCode, $"invalid request: {OneLine(e.Message)}");
        }
    }

    private async Task WriteAsync(HttpContext context, int status, string reason)
    {
        HostingLog.BadRequest(logger, reason);
        context.Response.Clear();
        await PlainResults.WriteRefusalAsync(context, status, reason);
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length > 300 ? line[..300] : line;
    }
}
