using CuratedIndex.Features.Policies;

namespace CuratedIndex.Tests.Features.Policies;

public sealed class PolicyLoaderTests
{
    [Fact]
    public void Parse_ShippedShape_ReadsEveryKeyWithNormalizedNames()
    {
        var policy = PolicyLoader.Parse(("all.yaml", """
            environments:
              dev:  { tier: 1 }
              prod: { tier: 3, cooldown: 7d }
            approve: [Requests, urllib3]
            deny:
              Reqeusts: typosquat of requests
            vet:
              requests: ">=2.31,<3"
            publishers:
              requests: ["github:psf/requests/.github/workflows/publish.yml"]
            internal: [acme-, acme_tools]
            """));

        Assert.Equal(Tier.Passthrough, policy.Environments["dev"].Tier);
        Assert.Equal(TimeSpan.FromDays(7), policy.Environments["prod"].Cooldown);
        Assert.Contains("requests", (IReadOnlySet<string>)policy.Approved);
        Assert.Equal("typosquat of requests", policy.Denied["reqeusts"]);
        Assert.Equal(">=2.31,<3", policy.Vet["requests"]);
        Assert.Single(policy.Publishers["requests"]);
        Assert.Contains("acme-tools", (IReadOnlySet<string>)policy.InternalNames);
        Assert.Equal(["acme-"], policy.InternalPrefixes);
    }

    [Fact]
    public void Parse_Access_IsOpenUnlessTokenIsAsked()
    {
        var policy = PolicyLoader.Parse(("environments.yaml", """
            environments:
              dev: { tier: 1 }
              ci: { tier: 2, access: token }
              prod: { tier: 3, access: open }
            """));

        Assert.Equal(IndexAccessMode.Open, policy.Environments["dev"].Access);
        Assert.Equal(IndexAccessMode.Token, policy.Environments["ci"].Access);
        Assert.Equal(IndexAccessMode.Open, policy.Environments["prod"].Access);
    }

    [Fact]
    public void Parse_SeveralFiles_AreMerged()
    {
        var policy = PolicyLoader.Parse(("a.yaml", "approve: [six]"), ("b.yaml", "approve: [zipp]\ndeny:\n  evil: malware"));

        Assert.Equal(["six", "zipp"], policy.Approved.Order());
        Assert.True(policy.Denied.ContainsKey("evil"));
    }

    [Fact]
    public void Parse_DenyByName_NeverMatchesAsPrefix()
    {
        var policy = PolicyLoader.Parse(("deny.yaml", "deny:\n  request: no"));

        Assert.False(policy.Denied.ContainsKey("requests"));
    }

    [Theory]
    [InlineData("environments:\n  dev: { tier: 4 }\n", 2, "tier must be 1, 2 or 3")]
    [InlineData("approve: [requests\n", 2, "")] // the parser notices at the end of input
    [InlineData("approve: [ok]\nallow: [x]\n", 2, "unknown policy key 'allow'")]
    [InlineData("deny:\n  six:\n", 2, "")]
    [InlineData("approve: [\"-bad-\"]\n", 1, "'-bad-' is not a valid project name")]
    [InlineData("vet:\n  requests: \"=>2\"\n", 2, "not a PEP 440 version specifier")]
    [InlineData("environments:\n  Dev: { tier: 1 }\n", 2, "invalid environment name 'Dev'")]
    [InlineData("environments:\n  prod: { tier: 3, cooldown: soon }\n", 2, "cooldown 'soon' is not a duration")]
    [InlineData("- just\n- a list\n", 1, "top level must be a mapping")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    access: tokens\n", 4, "environment 'ci': access must be open or token, not 'tokens'")]
    [InlineData("environments:\n  ci: { tier: 2, acess: token }\n", 2, "unknown option 'acess' (known: tier, cooldown, access, typosquat, criteria, targets)")]
    [InlineData("environments:\n  dev: { tier: 1 }\n  ci:\n    tier: 2\n    typosquat: deny\n", 5, "environment 'ci': typosquat must be warn or block, not 'deny'")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    targets: [\"3.12 manylinux_2_28_x86_64\", \"2.7 win32\"]\n", 4, "environment 'ci': target '2.7 win32':")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    targets: [\"3.12 solaris_sparc\"]\n", 4, "environment 'ci': target '3.12 solaris_sparc':")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    targets: [\"3.12 win_amd64\", \"3.12  win_amd64\"]\n", 4, "target '3.12 win_amd64' is listed twice")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    targets: []\n", 4, "targets must list at least one target")]
    [InlineData("environments:\n  ci:\n    tier: 2\n    targets: 3.12 win_amd64\n", 4, "targets must be a list")]
    public void Parse_MalformedFile_NamesFileLineAndProblem(string yaml, long line, string problem)
    {
        var error = Assert.Throws<PolicyFileException>(() => PolicyLoader.Parse(("policies/broken.yaml", yaml)));

        Assert.Equal("policies/broken.yaml", error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"policies/broken.yaml:{line}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Targets_AreReadNormalized_AndDefaultToCurrentCPythonOnLinux()
    {
        var policy = PolicyLoader.Parse(("environments.yaml", "environments:\n  ci: { tier: 2 }\n  prod: { tier: 3, targets: [\"3.11  manylinux_2_28_x86_64\", \"3.12.4 macosx_14_0_arm64\"] }\n"));

        Assert.Equal(["3.11 manylinux_2_28_x86_64", "3.12.4 macosx_14_0_arm64"], policy.Environments["prod"].Targets);
        Assert.Equal(["3.11 manylinux_2_28_x86_64", "3.12 manylinux_2_28_x86_64", "3.13 manylinux_2_28_x86_64", "3.14 manylinux_2_28_x86_64"], policy.Environments["ci"].Targets);
    }

    [Fact]
    public void Parse_TyposquatOption_DefaultsToWarn()
    {
        var policy = PolicyLoader.Parse(("environments.yaml", "environments:\n  dev: { tier: 1 }\n  ci: { tier: 2, typosquat: block }\n  qa: { tier: 2, typosquat: warn }\n"));

        Assert.Equal(TyposquatMode.Warn, policy.Environments["dev"].Typosquat);
        Assert.Equal(TyposquatMode.Block, policy.Environments["ci"].Typosquat);
        Assert.Equal(TyposquatMode.Warn, policy.Environments["qa"].Typosquat);
    }

    [Fact]
    public void LoadDirectory_ShippedPolicies_Parse()
    {
        var policies = Path.Combine(RepositoryRoot(), "policies");

        var policy = PolicyLoader.LoadDirectory(policies);

        Assert.Equal(Tier.Passthrough, policy.Environments["dev"].Tier);
        Assert.Equal(Tier.Reviewed, policy.Environments["ci"].Tier);
        Assert.Equal(Tier.Vetted, policy.Environments["prod"].Tier);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CuratedIndex.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
