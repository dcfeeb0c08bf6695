using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>The audit log, newest first and paged, with the result of checking its hash chain.</summary>
internal sealed class AuditModel(CuratedIndexDbContext db, TimeProvider clock) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditRecord> Records { get; private set; } = [];

    public long Count { get; private set; }

    public AuditBreak? Break { get; private set; }

    /// <summary>The newest record: its hash, kept outside the database, detects records cut from the end later.</summary>
    public AuditHead? Head { get; private set; }

    public int PageCount => (int)Math.Max(1, (Count + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // Verification continues from the last checkpoint (records added since, plus the checkpointed record itself);
        // `audit verify --full` re-reads the whole chain. The page itself reads one page.
        (Count, Break, Head) = await AuditLog.VerifyAsync(db, cancellationToken, saveCheckpoint: true, clock: clock);
        PageNumber = Math.Clamp(PageNumber, 1, PageCount);
        Records = await db.AuditRecords.AsNoTracking().OrderByDescending(r => r.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);
    }
}
