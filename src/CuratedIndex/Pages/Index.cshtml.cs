using CuratedIndex.Data;
using CuratedIndex.Features.ReviewUi;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>The dashboard: high-severity alerts, the queue's counts by status and three charts over the last 30 days.</summary>
internal sealed class IndexModel(DashboardQueries queries, CuratedIndexDbContext db) : PageModel
{
    public DashboardData Data { get; private set; } = null!;

    public int HighAlerts { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        HighAlerts = await db.Incidents.CountAsync(i => i.Severity == IncidentSeverity.High, cancellationToken);
        Data = await queries.LoadAsync(cancellationToken);
    }
}
