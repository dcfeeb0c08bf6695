using CuratedIndex.Data;
using CuratedIndex.Features.Policies;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Audit;

/// <summary>
/// Policy files change through pull requests, outside this process; the audit log records each version the
/// first time a node starts with it, so the log shows when a policy came into force.
/// </summary>
public static class PolicyAudit
{
    public const string Subject = "policies";

    public static async Task RecordIfChangedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var policies = services.GetRequiredService<PolicyStore>();
        var reason = $"sha256:{policies.Digest} ({policies.Files.Count} files: {string.Join(", ", policies.Files)})";
        if (reason.Length > 2000)
        {
            reason = reason[..1999] + "…";
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var last = await db.AuditRecords.AsNoTracking()
                .Where(r => r.Action == AuditAction.PolicyLoad)
                .OrderByDescending(r => r.Id)
                .Select(r => r.Reason)
                .FirstOrDefaultAsync(cancellationToken);
            if (last == reason)
            {
                return;
            }
        }

        await services.GetRequiredService<AuditLog>().AppendAsync(new AuditEntry("system", AuditAction.PolicyLoad, Subject, reason), cancellationToken);
    }
}
