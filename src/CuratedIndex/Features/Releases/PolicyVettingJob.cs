using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>What one pass of policy vetting did.</summary>
public sealed record PolicyVettingSummary(int Vetted, int Waiting, IReadOnlyList<string> Reasons)
{
    /// <summary>The first twenty reasons on one line, for the log.</summary>
    public string FirstReasons => string.Join(" | ", Reasons.Take(20));
}

/// <summary>
/// Vets by policy (<c>vet:</c> in policy files): every release matching a project's PEP 440 specifier is vetted once it has
/// passed the cooldown, with the files upstream lists at that moment pinned (actor <c>policy</c>, audited). A release inside
/// its cooldown, first seen after <c>vet-cutoff</c>, or carrying an anomaly signal waits; a reviewer's rejection is final.
/// Schedule: <c>Jobs:PolicyVetting:Schedule</c>. Idempotent: a release decided already is skipped.
/// </summary>
public sealed class PolicyVettingJob(CurationStore curations, ProjectPageCache pages, ReleaseObserver observer, ReleaseVetting vetting, ILogger<PolicyVettingJob> logger) : IScheduledJob
{
    public const string Key = "PolicyVetting";
    public const string DefaultSchedule = "*/15 * * * *";
    public const string Actor = "policy";

    public Task RunAsync(JobRunContext context, CancellationToken cancellationToken) => RunOnceAsync(cancellationToken);

    public async Task<PolicyVettingSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        await curations.RefreshAsync(cancellationToken);
        var policy = curations.Current.Policy;
        int vetted = 0, waiting = 0;
        var reasons = new List<string>();
        foreach (var (project, specifierText) in policy.Vet.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var specifier = VersionSpecifierSet.Parse(specifierText);
            var lookup = await pages.GetAsync(project, cancellationToken);
            if (lookup.Status != LookupStatus.Found)
            {
                reasons.Add($"{project}: upstream {(lookup.Status == LookupStatus.NotFound ? "has no such project" : "is unavailable")}");
                continue;
            }

            var page = lookup.Value!.Page;
            await observer.ObserveAsync(page, cancellationToken);
            var versions = page.Files
                .Select(f => ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, f.Filename)))
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)
                .Where(v => specifier.Contains(Pep440Version.Parse(v)));
            foreach (var version in versions)
            {
                if (curations.Current.Vettings.For(project, version) is not null)
                {
                    continue;
                }

                var outcome = await vetting.VetAsync(
                    new VetRequest(project, version, Releases.VettingCriteria.SafeToDeploy, $"policy 'vet: {project}: \"{specifierText}\"'", Actor, VettingHow.Policy),
                    cancellationToken);
                if (outcome.Status == VetStatus.Vetted)
                {
                    vetted++;
                }
                else
                {
                    waiting++;
                    reasons.Add($"{project} {version}: {outcome.Message}");
                }
            }
        }

        var summary = new PolicyVettingSummary(vetted, waiting, reasons);
        ReleasesLog.PolicyPass(logger, vetted, waiting, summary.FirstReasons);
        return summary;
    }
}
