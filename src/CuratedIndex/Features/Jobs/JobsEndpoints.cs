using System.Security.Claims;
using CuratedIndex.Features.Accounts;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace CuratedIndex.Features.Jobs;

/// <summary><c>POST /api/v1/jobs/{key}/run</c> (admins, API token) and the Hangfire Dashboard at <c>/ui/jobs/dashboard</c> (admins, UI sign-in).</summary>
public static class JobsEndpoints
{
    public const string DashboardPath = "/ui/jobs/dashboard";

    /// <summary>
    /// The dashboard's own policy: its pages load their scripts and styles from the dashboard's path (no inline script),
    /// poll its stats with XHR, and use inline style attributes. The rest of the UI allows no script at all.
    /// </summary>
    public const string DashboardContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void MapCuratedIndexJobs(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/jobs/{key}/run", RunAsync).RequireAuthorization(AccessPolicies.Administer);

        var dashboard = new DashboardOptions
        {
            AppPath = "/ui/jobs",
            DashboardTitle = "CuratedIndex jobs",
            // The endpoint's policy and this filter both demand a UI admin; Hangfire's default (local requests only) goes.
            Authorization = [],
            AsyncAuthorization = [new UiAdminDashboardFilter()],
            // Every run is triggered through the audited paths ("Run now", the API): the dashboard only shows.
            IsReadOnlyFunc = _ => true,
            // The PostgreSQL connection string holds a password.
            DisplayStorageConnectionString = false,
        };
        app.MapHangfireDashboard(DashboardPath, dashboard)
            .RequireAuthorization(AccessPolicies.UiAdminister)
            .Add(endpoint =>
            {
                var inner = endpoint.RequestDelegate!;
                endpoint.RequestDelegate = context =>
                {
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy = DashboardContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    headers.XFrameOptions = "DENY";
                    headers.CacheControl = "no-store";
                    return inner(context);
                };
            });
    }

    private static async Task<IResult> RunAsync(string key, ClaimsPrincipal user, JobTrigger trigger, CancellationToken cancellationToken)
    {
        var (outcome, job) = await trigger.TriggerAsync(key, user.Identity!.Name!, "POST /api/v1/jobs/{key}/run", cancellationToken);
        return outcome switch
        {
            TriggerOutcome.Triggered => Results.Accepted(value: new { job = job!.Key, message = $"job '{job.Key}' triggered; it runs on the next free worker" }),
            TriggerOutcome.UnknownJob => Results.NotFound(new { message = $"there is no job '{key}'" }),
            _ => Results.Conflict(new { message = "no job server runs on this node (Jobs:Enabled is false)" }),
        };
    }

    /// <summary>
    /// The dashboard's own check, beside the endpoint's policy: a UI session (the cookie scheme, never an API token) of an
    /// admin. Hangfire answers 401 to anonymous callers and 403 to signed-in others when this says no.
    /// </summary>
    private sealed class UiAdminDashboardFilter : IDashboardAsyncAuthorizationFilter
    {
        public async Task<bool> AuthorizeAsync(DashboardContext context)
        {
            var http = context.GetHttpContext();
            var session = await http.AuthenticateAsync(AccountsRegistration.CookieScheme);
            if (!session.Succeeded)
            {
                return false;
            }

            var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
            return (await authorization.AuthorizeAsync(session.Principal, AccessPolicies.UiAdminister)).Succeeded;
        }
    }
}
