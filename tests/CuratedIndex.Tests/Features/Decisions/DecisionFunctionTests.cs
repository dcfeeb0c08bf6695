using CuratedIndex.Features.Review;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;

namespace CuratedIndex.Tests.Features.Decisions;

public sealed class DecisionFunctionTests
{
    private static readonly PolicySnapshot Policy = PolicyLoader.Parse(("test.yaml", """
        environments:
          dev: { tier: 1 }
          ci: { tier: 2 }
          prod: { tier: 3 }
        approve: [requests, urllib3]
        deny:
          reqeusts: typosquat of requests
          urllib3: compromised release stream
        """));

    private static EnvironmentPolicy Env(string name) => Policy.Environments[name];

    [Theory]
    [InlineData("dev", "anything", true, DecisionRule.Allowed)]
    [InlineData("dev", "reqeusts", false, DecisionRule.Denied)]
    [InlineData("ci", "requests", true, DecisionRule.Allowed)]
    [InlineData("ci", "flask", false, DecisionRule.NotApproved)]
    [InlineData("ci", "urllib3", false, DecisionRule.Denied)] // deny wins over approve
    [InlineData("prod", "flask", false, DecisionRule.NotApproved)]
    [InlineData("prod", "requests", true, DecisionRule.Allowed)]
    public void Decide_Project_FollowsTierAndDenyRules(string environment, string project, bool visible, DecisionRule rule)
    {
        var decision = DecisionFunction.Decide(Env(environment), Policy, ReviewerDecisions.None, new DecisionSubject(project), UpstreamFacts.None);

        Assert.Equal(visible, decision.Visible);
        Assert.Equal(rule, decision.Rule);
        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
    }

    [Fact]
    public void Decide_DeniedProject_ReasonNamesThePolicyReason()
    {
        var decision = DecisionFunction.Decide(Env("dev"), Policy, ReviewerDecisions.None, new DecisionSubject("reqeusts"), UpstreamFacts.None);

        Assert.Equal("denied by policy: typosquat of requests", decision.Reason);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("ci")]
    public void Decide_QuarantinedUpstream_IsHiddenInEveryTier(string environment)
    {
        var decision = DecisionFunction.Decide(Env(environment), Policy, ReviewerDecisions.None, new DecisionSubject("requests"), new UpstreamFacts("quarantined"));

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.UpstreamQuarantined, decision.Rule);
    }

    [Fact]
    public void Decide_Tier3Release_IsHiddenUntilVetted()
    {
        var project = DecisionFunction.Decide(Env("prod"), Policy, ReviewerDecisions.None, new DecisionSubject("requests"), UpstreamFacts.None);
        var release = DecisionFunction.Decide(Env("prod"), Policy, ReviewerDecisions.None, new DecisionSubject("requests", "2.31.0"), UpstreamFacts.None);

        Assert.True(project.Visible);
        Assert.False(release.Visible);
        Assert.Equal(DecisionRule.NotVetted, release.Rule);
    }

    [Fact]
    public void Decide_Tier1_ShowsEveryReleaseAndFile()
    {
        var decision = DecisionFunction.Decide(Env("dev"), Policy, ReviewerDecisions.None, new DecisionSubject("flask", "3.0.0", "flask-3.0.0-py3-none-any.whl"), UpstreamFacts.None);

        Assert.True(decision.Visible);
    }
}
