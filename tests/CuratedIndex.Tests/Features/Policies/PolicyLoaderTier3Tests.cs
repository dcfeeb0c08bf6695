using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Policies;

/// <summary>The tier 3 policy keys: an environment's <c>criteria</c>, <c>cooldown:</c> per project and <c>vet-cutoff:</c>.</summary>
public sealed class PolicyLoaderTier3Tests
{
    private static PolicyFileException Refusal(params (string Name, string Yaml)[] files) =>
        Assert.Throws<PolicyFileException>(() => PolicyLoader.Parse(files));

    private static void AssertNames(PolicyFileException error, string file, long line, string problem)
    {
        Assert.Equal(file, error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{file}:{line}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Criteria_IsSafeToDeployUnlessSafeToRunIsAsked()
    {
        var policy = PolicyLoader.Parse(("environments.yaml", """
            environments:
              prod: { tier: 3 }
              sandbox: { tier: 3, criteria: safe-to-run }
              release: { tier: 3, criteria: safe-to-deploy }
            """));

        Assert.Equal(VettingCriteria.SafeToDeploy, policy.Environments["prod"].Criteria);
        Assert.Equal(VettingCriteria.SafeToRun, policy.Environments["sandbox"].Criteria);
        Assert.Equal(VettingCriteria.SafeToDeploy, policy.Environments["release"].Criteria);
    }

    [Theory]
    [InlineData("environments:\n  prod: { tier: 3, criteria: safe }\n", 2, "environment 'prod': criteria must be safe-to-deploy or safe-to-run, not 'safe'")]
    [InlineData("environments:\n  dev: { tier: 1 }\n  prod:\n    tier: 3\n    criteria: Safe-To-Deploy\n", 5, "criteria must be safe-to-deploy or safe-to-run, not 'Safe-To-Deploy'")]
    [InlineData("environments:\n  prod:\n    tier: 3\n    criteria: [safe-to-run]\n", 4, "criteria must be a single value")]
    public void Criteria_Invalid_IsRefusedNamingFileAndLine(string yaml, long line, string problem)
    {
        AssertNames(Refusal(("policies/prod.yaml", yaml)), "policies/prod.yaml", line, problem);
    }

    [Fact]
    public void CooldownMap_ReadsDurationsPerNormalizedProjectName()
    {
        var policy = PolicyLoader.Parse(("cooldown.yaml", """
            environments:
              prod: { tier: 3, cooldown: 7d }
            cooldown:
              Zope.Interface: 3d
              six: 12h
              zipp: 0d
              attrs: 90m
            """));

        Assert.Equal(TimeSpan.FromDays(3), policy.Cooldowns["zope-interface"]);
        Assert.Equal(TimeSpan.FromHours(12), policy.CooldownFor("six"));
        Assert.Equal(TimeSpan.Zero, policy.CooldownFor("zipp"));
        Assert.Equal(TimeSpan.FromMinutes(90), policy.CooldownFor("attrs"));
        Assert.Equal(TimeSpan.FromDays(7), policy.CooldownFor("requests"));
    }

    [Theory]
    [InlineData("cooldown:\n  zipp: soon\n", 2, "cooldown 'zipp': 'soon' is not a duration such as 7d, 12h or 30m")]
    [InlineData("cooldown:\n  zipp: -1d\n", 2, "cooldown 'zipp': '-1d' is not a duration")]
    [InlineData("cooldown:\n  zipp: 7w\n", 2, "'7w' is not a duration")]
    [InlineData("cooldown:\n  six: 1d\n  zipp: 99999d\n", 3, "'99999d' is not a duration")]
    [InlineData("cooldown:\n  zipp: [1d]\n", 2, "cooldown of 'zipp' must be a single value")]
    [InlineData("cooldown:\n  \"-bad-\": 1d\n", 2, "'-bad-' is not a valid project name")]
    [InlineData("cooldown:\n  zipp: 1d\n  \"a b\": 1d\n", 3, "'a b' is not a valid project name")]
    [InlineData("cooldown: 7d\n", 1, "cooldown must be a mapping")]
    [InlineData("approve: [zipp]\ncooldown:\n  - zipp\n", 3, "cooldown must be a mapping")]
    public void CooldownMap_Invalid_IsRefusedNamingFileAndLine(string yaml, long line, string problem)
    {
        AssertNames(Refusal(("policies/cooldown.yaml", yaml)), "policies/cooldown.yaml", line, problem);
    }

    [Theory]
    [InlineData("2026-12-01", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-01T12:30:00Z", "2026-12-01T12:30:00Z")]
    [InlineData("2026-12-01T12:30:00+02:00", "2026-12-01T10:30:00Z")]
    [InlineData("2026-12-01T00:30:00-05:00", "2026-12-01T05:30:00Z")]
    public void VetCutoff_DateOrTimeWithOffset_IsReadAsUtc(string text, string utc)
    {
        var policy = PolicyLoader.Parse(("cutoff.yaml", $"vet-cutoff: \"{text}\"\n"));

        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime, policy.VetCutoff);
        Assert.Equal(DateTimeKind.Utc, policy.VetCutoff!.Value.Kind);
    }

    [Fact]
    public void VetCutoff_Unquoted_IsReadToo()
    {
        var policy = PolicyLoader.Parse(("cutoff.yaml", "approve: [zipp]\nvet-cutoff: 2026-12-01\n"));

        Assert.Equal(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), policy.VetCutoff);
    }

    [Fact]
    public void VetCutoff_Absent_IsNull()
    {
        Assert.Null(PolicyLoader.Parse(("a.yaml", "approve: [zipp]\n")).VetCutoff);
    }

    [Theory]
    [InlineData("vet-cutoff: next tuesday\n", 1)]
    [InlineData("approve: [zipp]\nvet-cutoff: 2026-13-01\n", 2)]
    [InlineData("vet-cutoff: 01.12.2026\n", 1)]
    [InlineData("vet-cutoff: 2026-12-01 12:00\n", 1)]
    [InlineData("vet-cutoff: \"\"\n", 1)]
    // A time without an offset would be read in the server's time zone: refused rather than guessed.
    [InlineData("vet-cutoff: 2026-12-01T12:00:00\n", 1)]
    public void VetCutoff_Garbage_IsRefusedNamingFileAndLine(string yaml, long line)
    {
        AssertNames(Refusal(("policies/cutoff.yaml", yaml)), "policies/cutoff.yaml", line, "is not a date (2026-12-01) or a time with an offset");
    }

    [Fact]
    public void VetCutoff_NotAScalar_IsRefused()
    {
        AssertNames(Refusal(("policies/cutoff.yaml", "vet-cutoff:\n  - 2026-12-01\n")), "policies/cutoff.yaml", 2, "vet-cutoff must be a single value");
    }

    [Fact]
    public void VetCutoff_SetTwiceDifferently_IsRefusedNamingTheSecondFile()
    {
        var error = Refusal(("a.yaml", "vet-cutoff: 2026-12-01\n"), ("team/b.yaml", "approve: [zipp]\nvet-cutoff: 2026-12-02\n"));

        AssertNames(error, "team/b.yaml", 2, "vet-cutoff is set twice with different values");
    }

    [Fact]
    public void VetCutoff_SetTwiceToTheSameMoment_IsAccepted()
    {
        var policy = PolicyLoader.Parse(("a.yaml", "vet-cutoff: 2026-12-01\n"), ("b.yaml", "vet-cutoff: 2026-12-01T01:00:00+01:00\n"));

        Assert.Equal(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), policy.VetCutoff);
    }

    [Fact]
    public void CooldownOrVet_SetTwiceDifferentlyAcrossFiles_IsRefusedNamingTheSecondFile_TheSameValueTwiceIsAccepted()
    {
        var cooldown = Refusal(("a.yaml", "cooldown:\n  numpy: 7d\n"), ("team/b.yaml", "cooldown:\n  numpy: 1h\n"));
        var vet = Refusal(("a.yaml", "vet:\n  zipp: \">=3.6\"\n"), ("team/b.yaml", "vet:\n  zipp: \">=0\"\n"));
        var same = PolicyLoader.Parse(("a.yaml", "cooldown:\n  numpy: 7d\nvet:\n  zipp: \">=3.6\"\n"), ("b.yaml", "cooldown:\n  numpy: 168h\nvet:\n  zipp: \">=3.6\"\n"));

        AssertNames(cooldown, "team/b.yaml", 2, "cooldown 'numpy' is set twice with different durations");
        AssertNames(vet, "team/b.yaml", 2, "vet 'zipp' is set twice with different specifiers ('>=3.6' and '>=0')");
        Assert.Equal(TimeSpan.FromDays(7), same.Cooldowns["numpy"]);
        Assert.Equal(">=3.6", same.Vet["zipp"]);
    }
}
