using CuratedIndex.Features.ReviewUi;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>The dashboard: the queue's counts by status and three charts over the last 30 days.</summary>
internal sealed class IndexModel(DashboardQueries queries) : PageModel
{
    public DashboardData Data { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => Data = await queries.LoadAsync(cancellationToken);
}
