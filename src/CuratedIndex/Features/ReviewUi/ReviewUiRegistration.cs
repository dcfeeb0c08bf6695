using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationParts;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>The services behind the approval UI's pages (the pages themselves live in <c>Pages/</c>).</summary>
public static class ReviewUiRegistration
{
    public static void AddReviewUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PopularityRanks>();
        builder.Services.AddSingleton<TyposquatFindings>();
        builder.Services.AddSingleton<EvidenceReader>();
        builder.Services.AddScoped<DashboardQueries>();
        builder.Services.AddScoped<ClosureReview>();
        builder.Services.AddRazorPages(o =>
        {
            // Every page needs a signed-in account but the sign-in page; pages that change things ask for more.
            o.Conventions.AuthorizeFolder("/", Accounts.AccessPolicies.UiView);
            o.Conventions.AllowAnonymousToPage("/Login");
        })
        // MVC looks for pages in the entry assembly, which is the test host when tests build the app in-process.
        .ConfigureApplicationPartManager(manager =>
        {
            var assembly = typeof(ReviewUiRegistration).Assembly;
            if (!manager.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
            {
                foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                {
                    manager.ApplicationParts.Add(part);
                }
            }
        });
        // A global MVC filter runs for Razor Pages only, so index and API responses never pay for it.
        builder.Services.Configure<MvcOptions>(o =>
        {
            o.Filters.Add(new UiSecurityHeaders());
            o.Filters.Add(new AntiforgeryFailureMessage());
        });
    }

    /// <summary>The pages under <c>/ui/</c> (each page names its route).</summary>
    public static void MapReviewUi(this WebApplication app) => app.MapRazorPages();
}
