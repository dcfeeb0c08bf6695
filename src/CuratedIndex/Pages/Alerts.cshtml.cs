using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Typosquat;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>A typosquat finding for a name no one has asked for yet; <see cref="ImitatesOrganization"/> when it imitates an approved or internal name.</summary>
internal sealed record LookalikeAlert(StoredTyposquatFinding Finding, bool ImitatesOrganization);

/// <summary>
/// Incidents a person must look at (dependency confusion, hash mismatches), newest first; and typosquat findings for names
/// without a review request (new upstream names, requests in passthrough environments), those imitating the organization's
/// own names first.
/// </summary>
internal sealed class AlertsModel(CuratedIndexDbContext db, CurationStore curations) : PageModel
{
    public const int Limit = 200;

    public IReadOnlyList<Incident> Incidents { get; private set; } = [];

    public IReadOnlyList<LookalikeAlert> Lookalikes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // By id: ids grow with time, and SQLite cannot order by a DateTimeOffset column.
        Incidents = await db.Incidents.AsNoTracking().OrderByDescending(i => i.Id).Take(Limit).ToListAsync(cancellationToken);
        // Lookalikes of the organization's own names are read first and apart, so that no volume of other findings can
        // push them off the page. The detector compares with exact approved and internal names, so an IN list finds them.
        var curation = curations.Current;
        var organization = curation.OrganizationNames();
        var unrequested = db.TyposquatFindings.AsNoTracking().Where(f => !db.ReviewRequests.Any(r => r.Project == f.Project));
        var ofOrganization = await unrequested.Where(f => organization.Contains(f.Imitated))
            .OrderByDescending(f => f.Id)
            .Take(Limit)
            .ToListAsync(cancellationToken);
        var others = await unrequested.Where(f => !organization.Contains(f.Imitated))
            .OrderByDescending(f => f.Id)
            .Take(Limit - ofOrganization.Count)
            .ToListAsync(cancellationToken);
        Lookalikes = ofOrganization.Select(f => new LookalikeAlert(f, true))
            .Concat(others.Select(f => new LookalikeAlert(f, false)))
            .ToList();
    }
}
