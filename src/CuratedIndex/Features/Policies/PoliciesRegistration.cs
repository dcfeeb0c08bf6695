using CuratedIndex.Hosting;
namespace CuratedIndex.Features.Policies;

public static class PoliciesRegistration
{
    /// <summary>The policy files under <c>Policies:Path</c>, read once by <see cref="PolicyStore.Load"/> at startup.</summary>
    public static void AddPolicies(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<PolicyOptions>(PolicyOptions.Section);
        builder.Services.AddSingleton<PolicyStore>();
    }
}
