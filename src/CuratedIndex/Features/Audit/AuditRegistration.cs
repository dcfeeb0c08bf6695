namespace CuratedIndex.Features.Audit;

public static class AuditRegistration
{
    /// <summary>The hash-chained audit log every decision writes in its own transaction.</summary>
    public static void AddAudit(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<AuditLog>();
}
