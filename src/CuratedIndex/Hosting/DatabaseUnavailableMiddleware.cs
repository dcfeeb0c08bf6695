using System.Data.Common;
using System.Net.Sockets;

namespace CuratedIndex.Hosting;

/// <summary>
/// When the database cannot be reached (PostgreSQL down, restarting or cut off), a request that needed it is answered
/// <c>503</c> with <c>Retry-After</c> and one line saying so: JSON <c>{"message"}</c> under <c>/api/</c>, plain text
/// elsewhere. Nothing was decided (a decision and its audit record commit together or not at all). What does not need the
/// database (cached pages and stored files) keeps being served, and once the database answers again the next request
/// succeeds: connections are opened per request, so nothing needs a restart.
/// </summary>
public sealed class DatabaseUnavailableMiddleware(RequestDelegate next, ILogger<DatabaseUnavailableMiddleware> logger)
{
    public const string Message = "the database is unavailable; nothing was changed, try again shortly";

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (IsUnreachableDatabase(e) && !context.Response.HasStarted)
        {
            HostingLog.DatabaseUnavailable(logger, context.Request.Method, context.Request.Path, e.GetBaseException().Message);
            context.Response.Clear();
            context.Response.Headers.RetryAfter = "10";
            await PlainResults.WriteRefusalAsync(context, StatusCodes.Status503ServiceUnavailable, Message);
        }
    }

    /// <summary>
    /// A failure to reach the database, as opposed to a bug or a refused statement: a provider error it calls transient
    /// (Npgsql: connection refused, reset, timed out), or a socket error or timeout underneath a database call.
    /// </summary>
    internal static bool IsUnreachableDatabase(Exception exception)
    {
        var databaseCall = false;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case DbException { IsTransient: true }:
                    return true;
                case DbException or Microsoft.EntityFrameworkCore.DbUpdateException:
                    databaseCall = true;
                    break;
                case SocketException or TimeoutException or EndOfStreamException when databaseCall:
                    return true;
            }
        }

        return false;
    }
}
