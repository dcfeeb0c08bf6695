using System.Collections.Frozen;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;

namespace CuratedIndex.Tests.Features.Decisions;

public sealed class DecisionFunctionTests
{
    private static readonly PolicySnapshot Policy = PolicyLoader.Parse(("test.yaml", """
        environments:
          dev: { tier: 1 }
          ci: { tier: 2 }
          prod: { tier: 3 }
          strict: { tier: 1, typosquat: block }
          gate: { tier: 2, typosquat: block }
        approve: [requests, urllib3, requestss]
        internal: [acme-, acme_tools]
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

    private static ReviewerDecisions Reviews(params (string Project, Verdict Verdict, string Reason)[] decisions) =>
        new(decisions.Select((d, i) => (d.Project, Verdict: new ReviewerVerdict(d.Verdict, d.Reason, "rita", new DateTime(2026, 11, 22, 0, 0, 0, DateTimeKind.Utc), i + 1)))
                .ToFrozenDictionary(d => d.Project, d => d.Verdict, StringComparer.Ordinal),
            decisions.Length);

    private static Decision Decide(string environment, string project, ReviewerDecisions reviews, UpstreamFacts? facts = null) =>
        DecisionFunction.Decide(Env(environment), Policy, reviews, new DecisionSubject(project), facts ?? UpstreamFacts.None);

    [Fact]
    public void Decide_Tier2_PolicyApproval_IsVisible()
    {
        var decision = Decide("ci", "requests", ReviewerDecisions.None);

        Assert.Equal(Decision.Allow("approved by policy"), decision);
    }

    [Fact]
    public void Decide_Tier2_ReviewerApproval_IsVisibleWithTheReviewersReason()
    {
        var decision = Decide("ci", "flask", Reviews(("flask", Verdict.Approved, "widely used")));

        Assert.Equal(Decision.Allow("approved by reviewer rita: widely used", "approved by a reviewer: widely used"), decision);
    }

    [Fact]
    public void Decide_ReviewerDeny_BeatsPolicyApproval()
    {
        var decision = Decide("ci", "requests", Reviews(("requests", Verdict.Denied, "compromised")));

        Assert.Equal(Decision.Hide(DecisionRule.Denied, "denied by reviewer rita: compromised", "denied by a reviewer: compromised"), decision);
    }

    [Fact]
    public void Decide_PolicyDeny_BeatsReviewerApproval()
    {
        var decision = Decide("ci", "reqeusts", Reviews(("reqeusts", Verdict.Approved, "looks fine")));

        Assert.Equal(Decision.Hide(DecisionRule.Denied, "denied by policy: typosquat of requests"), decision);
    }

    [Fact]
    public void Decide_Deferred_StaysHiddenAndSaysSo()
    {
        var decision = Decide("ci", "flask", Reviews(("flask", Verdict.Deferred, "next week")));

        Assert.Equal(Decision.Hide(DecisionRule.NotApproved, "'flask' is deferred by a reviewer for environment 'ci' (tier 2)"), decision);
    }

    [Fact]
    public void Decide_NewestVerdictIsTheOneHeld_PendingCountsAsNotApproved()
    {
        var decision = Decide("ci", "flask", Reviews(("flask", Verdict.Pending, "")));

        Assert.Equal(DecisionRule.NotApproved, decision.Rule);
        Assert.Equal("'flask' is not approved for environment 'ci' (tier 2)", decision.Reason);
    }

    [Theory]
    [InlineData("requests")] // approved by policy
    [InlineData("flask")] // approved by a reviewer
    public void Decide_UpstreamQuarantine_BeatsApproval(string project)
    {
        var decision = Decide("ci", project, Reviews(("flask", Verdict.Approved, "ok")), new UpstreamFacts("quarantined"));

        Assert.Equal(Decision.Hide(DecisionRule.UpstreamQuarantined, "quarantined upstream"), decision);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("ci")]
    [InlineData("prod")]
    public void Decide_ReviewerDeny_HidesInEveryTierIncludingPassthrough(string environment)
    {
        var decision = Decide(environment, "flask", Reviews(("flask", Verdict.Denied, "malware")));

        // Index clients read why, not who (issue 9, hole 5).
        Assert.Equal(Decision.Hide(DecisionRule.Denied, "denied by reviewer rita: malware", "denied by a reviewer: malware"), decision);
        Assert.Equal("denied by a reviewer: malware", decision.ForIndexClients().Reason);
    }

    [Fact]
    public void Decide_Tier1_IgnoresReviewerApprovalAndDeferral()
    {
        Assert.True(Decide("dev", "flask", Reviews(("flask", Verdict.Deferred, "later"))).Visible);
        Assert.True(Decide("dev", "django", Reviews(("flask", Verdict.Approved, "ok"))).Visible);
    }

    [Fact]
    public void Decide_Tier3_ReviewerApprovedProjectShowsNoUnvettedRelease()
    {
        var reviews = Reviews(("flask", Verdict.Approved, "ok"));

        Assert.True(Decide("prod", "flask", reviews).Visible);
        Assert.Equal(DecisionRule.NotVetted, DecisionFunction.Decide(Env("prod"), Policy, reviews, new DecisionSubject("flask", "3.0.0"), UpstreamFacts.None).Rule);
    }

    private static readonly TyposquatSignal Lookalike = new("colorama", 0.9, "substitution", "edit distance 1 ('o' replaced by 'ou') from 'colorama' (rank 40)");

    private static Decision DecideWith(string environment, string project, ReviewerDecisions reviews, TyposquatSignal? finding) =>
        DecisionFunction.Decide(Env(environment), Policy, reviews, new DecisionSubject(project), UpstreamFacts.None, new DecisionSignals(finding));

    [Theory]
    [InlineData("strict")]
    [InlineData("gate")]
    public void Decide_TyposquatBlock_HidesTheLookalikeNamingTheImitatedProject(string environment)
    {
        var decision = DecideWith(environment, "colourama", ReviewerDecisions.None, Lookalike);

        Assert.False(decision.Visible);
        Assert.Equal(DecisionRule.Typosquat, decision.Rule);
        Assert.Contains("looks like 'colorama' (typosquat score 0.90)", decision.Reason, StringComparison.Ordinal);
        Assert.Contains($"environment '{environment}'", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_TyposquatWarn_OnlyInformsReviewers()
    {
        Assert.Equal(DecisionRule.Allowed, DecideWith("dev", "colourama", ReviewerDecisions.None, Lookalike).Rule);
        Assert.Equal(DecisionRule.NotApproved, DecideWith("ci", "colourama", ReviewerDecisions.None, Lookalike).Rule);
    }

    [Fact]
    public void Decide_TyposquatBlock_NeverBlocksAnApprovedName()
    {
        Assert.True(DecideWith("gate", "requestss", ReviewerDecisions.None, Lookalike).Visible);
        Assert.True(DecideWith("gate", "colourama", Reviews(("colourama", Verdict.Approved, "our fork")), Lookalike).Visible);
        Assert.True(DecideWith("strict", "colourama", ReviewerDecisions.None, null).Visible);
    }

    [Fact]
    public void Decide_TyposquatBlock_DenyStillWinsWithItsOwnReason()
    {
        var decision = DecideWith("strict", "reqeusts", ReviewerDecisions.None, Lookalike);

        Assert.Equal(DecisionRule.Denied, decision.Rule);
    }

    [Theory]
    [InlineData("dev", "acme-tools")]
    [InlineData("ci", "acme-db")]
    [InlineData("prod", "acme-tools")]
    [InlineData("dev", "acme-tools-x")]
    public void Decide_InternalName_IsHiddenInEveryTier(string environment, string project)
    {
        var decision = Decide(environment, project, Reviews((project, Verdict.Approved, "looks fine")));

        Assert.Equal(Decision.Hide(DecisionRule.Internal, $"'{project}' is an internal name (policy 'internal:'); it is never served from the public upstream"), decision);
    }

    [Theory]
    [InlineData("acme")]
    [InlineData("acmex")]
    [InlineData("acmetools")]
    public void Decide_NameOutsideTheInternalNamesAndPrefixes_IsNotInternal(string project)
    {
        Assert.True(Decide("dev", project, ReviewerDecisions.None).Visible);
    }
}
