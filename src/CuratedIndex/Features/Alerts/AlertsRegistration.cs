namespace CuratedIndex.Features.Alerts;

public static class AlertsRegistration
{
    /// <summary>High-severity alerts: today the dependency-confusion alert for internal names upstream has.</summary>
    public static void AddAlerts(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<DependencyConfusionAlerts>();
}
