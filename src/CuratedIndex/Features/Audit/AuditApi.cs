using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Audit;

/// <summary><c>GET /api/v1/audit</c> (records in id order, paged by <c>after</c>) and <c>GET /api/v1/audit/verify[?full=true&amp;head=…]</c>.</summary>
public static class AuditApi
{
    public const int MaxLimit = 1000;

    public static void MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", ListAsync).RequireAuthorization(AccessPolicies.View);
        api.MapGet("/audit/verify", VerifyAsync).RequireAuthorization(AccessPolicies.View);
    }

    private static async Task<IResult> ListAsync(CuratedIndexDbContext db, long? after, int? limit, string? subject, CancellationToken cancellationToken)
    {
        var take = Math.Clamp(limit ?? 100, 1, MaxLimit);
        var records = db.AuditRecords.AsNoTracking().Where(r => r.Id > (after ?? 0));
        if (subject is { Length: > 0 })
        {
            records = records.Where(r => r.Subject == subject);
        }

        var items = await records.OrderBy(r => r.Id).Take(take).ToListAsync(cancellationToken);
        return Results.Ok(new
        {
            items = items.Select(r => new { id = r.Id, occurredAt = r.OccurredAt, actor = r.Actor, action = r.Action, subject = r.Subject, reason = r.Reason, previousHash = r.PreviousHash, hash = r.Hash }),
            next = items.Count == take ? items[^1].Id : (long?)null,
        });
    }

    /// <summary>From the newest checkpoint (and leaving a new one when intact); <c>full=true</c> re-reads the whole chain.</summary>
    private static async Task<IResult> VerifyAsync(CuratedIndexDbContext db, TimeProvider clock, string? head, bool? full, CancellationToken cancellationToken)
    {
        var result = await AuditLog.VerifyAsync(db, cancellationToken, head, full ?? false, saveCheckpoint: true, clock);
        return Results.Ok(new
        {
            intact = result.Break is null,
            records = result.Count,
            firstBrokenRecord = result.Break?.RecordId,
            problem = result.Break?.Problem,
            head = result.Head is { } h ? new { id = h.Id, hash = h.Hash } : null,
        });
    }
}
