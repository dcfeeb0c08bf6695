using CuratedIndex.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>Incidents a person must look at (dependency confusion, hash mismatches), newest first.</summary>
internal sealed class AlertsModel(CuratedIndexDbContext db) : PageModel
{
    public const int Limit = 200;

    public IReadOnlyList<Incident> Incidents { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        // By id: ids grow with time, and SQLite cannot order by a DateTimeOffset column.
        Incidents = await db.Incidents.AsNoTracking().OrderByDescending(i => i.Id).Take(Limit).ToListAsync(cancellationToken);
}
