using System.Collections.Frozen;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;

namespace CuratedIndex.Tests.Features.Decisions;

/// <summary>Tier 3 matches a listed file to its pin by sha256; a listing that gives no sha256 cannot match and is hidden.</summary>
public sealed class Tier3PinDigestTests
{
    private const string Wheel = "zipp-3.6.0-py3-none-any.whl";
    private const string Pinned = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

    private static readonly PolicySnapshot Policy = PolicyLoader.Parse(("test.yaml", """
        environments:
          prod: { tier: 3 }
        approve: [zipp]
        """));

    private static readonly ReleaseVettings Vettings = new(
        new Dictionary<string, FrozenDictionary<string, ReleaseVerdict>>
        {
            ["zipp"] = new Dictionary<string, ReleaseVerdict>
            {
                ["3.6.0"] = new(1, "zipp", "3.6.0", true, VettingCriteria.SafeToDeploy, VettingHow.Reviewer, "rita", "ok", false, null, DateTime.UnixEpoch,
                    new Dictionary<string, PinnedFile> { [Wheel] = new(Wheel, Pinned, 5313) }.ToFrozenDictionary()),
            }.ToFrozenDictionary(),
        }.ToFrozenDictionary(),
        1);

    private static Decision Decide(UpstreamFacts facts) =>
        DecisionFunction.Decide(Policy.Environments["prod"], Policy, ReviewerDecisions.None, new DecisionSubject("zipp", "3.6.0", Wheel), facts, vettings: Vettings);

    [Fact]
    public void ListedWithThePinnedSha256_IsServed() =>
        Assert.True(Decide(UpstreamFacts.None.ForListedFile(Pinned.ToUpperInvariant())).Visible);

    [Fact]
    public void ListedWithAnotherSha256_IsAPinMismatch()
    {
        var decision = Decide(UpstreamFacts.None.ForListedFile(new string('0', 64)));

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.PinMismatch, decision.Rule);
    }

    [Fact]
    public void ListedWithoutASha256_IsAPinMismatch_NotServedUnverified()
    {
        var decision = Decide(UpstreamFacts.None.ForListedFile(null));

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.PinMismatch, decision.Rule);
        Assert.Contains("without a sha256", decision.Reason, StringComparison.Ordinal);
    }
}
