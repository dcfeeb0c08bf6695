using CuratedIndex.Features.Releases.Cli;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>The pure parts of <c>approve [--with-deps]</c> and <c>vet --with-deps</c>: the requirement argument, vet's two modes, the decision lines.</summary>
public sealed class ApproveCommandTests
{
    [Theory]
    [InlineData("flask", "flask", null, "")]
    [InlineData("Flask==3.0.3", "flask", "3.0.3", "")]
    [InlineData("  flask == 3.0.3 ", "flask", "3.0.3", "")]
    [InlineData("Flask[Async, dot_env,async]==3.0.3", "flask", "3.0.3", "async,dot-env")]
    [InlineData("zope.interface[test]", "zope-interface", null, "test")]
    [InlineData("pytest==3.5.0", "pytest", "3.5.0", "")]
    public void TryParse_NameExactVersionAndExtras_AreNormalized(string text, string project, string? version, string extras)
    {
        Assert.True(ClosureRequirement.TryParse(text, out var requirement, out var error), error);
        Assert.Equal(project, requirement.Project);
        Assert.Equal(version, requirement.Version?.ToString());
        Assert.Equal(extras, string.Join(',', requirement.Extras));
    }

    [Theory]
    [InlineData("flask>=3", "give one exact version (name==VERSION) or none, not '>=3'")]
    [InlineData("flask~=3.0", "not '~=3.0'")]
    [InlineData("flask==3.*", "not '==3.*'")]
    [InlineData("flask===3.0.3", "not '===3.0.3'")]
    [InlineData("flask==3.0.3,!=3.0.2", "not '==3.0.3,!=3.0.2'")]
    [InlineData("flask; sys_platform == 'win32'", "not '; sys_platform == 'win32''")]
    [InlineData("flask @ https://example.org/flask.whl", "not '@ https://example.org/flask.whl'")]
    [InlineData("flask==three", "'three' is not a PEP 440 version")]
    [InlineData("flask[-bad]==3.0.3", "'-bad' is not a valid extra name")]
    [InlineData("", "'' is not a requirement this command takes")]
    [InlineData("-flask", "'-flask' is not a requirement this command takes")]
    public void TryParse_RangesMarkersUrlsAndBadNames_AreRefusedInOneLine(string text, string expected)
    {
        Assert.False(ClosureRequirement.TryParse(text, out var requirement, out var error));
        Assert.Null(requirement);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void ToString_WritesTheRequirementAsPipWould()
    {
        Assert.True(ClosureRequirement.TryParse("Flask[Async]==3.0.3", out var requirement, out _));
        Assert.Equal("flask[async]==3.0.3", requirement.ToString());
    }

    [Fact]
    public void ModeProblem_ExactlyOneOfLockFileOrWithDeps()
    {
        Assert.Null(VetCommand.ModeProblem(["requirements.txt"], false, null));
        Assert.Null(VetCommand.ModeProblem(null, true, "flask==3.0.3"));
        Assert.Contains("not both", VetCommand.ModeProblem(["requirements.txt"], true, "flask"), StringComparison.Ordinal);
        Assert.StartsWith("give -r FILE", VetCommand.ModeProblem(null, false, null), StringComparison.Ordinal);
        Assert.StartsWith("give -r FILE", VetCommand.ModeProblem([], false, null), StringComparison.Ordinal);
        Assert.StartsWith("--with-deps needs a requirement", VetCommand.ModeProblem(null, true, null), StringComparison.Ordinal);
        Assert.Contains("add --with-deps", VetCommand.ModeProblem(null, false, "flask"), StringComparison.Ordinal);
        Assert.Contains("unexpected argument 'flask'", VetCommand.ModeProblem(["requirements.txt"], false, "flask"), StringComparison.Ordinal);
    }

    [Fact]
    public void DecisionLines_RootFirst_ApprovalsBeforeVettings_DependenciesNamed()
    {
        var lines = ApproveCommand.DecisionLines("flask", "3.0.3",
        [
            ("werkzeug", "3.0.1", "vet"),
            ("flask", "3.0.3", "vet"),
            ("werkzeug", "3.0.1", "approve"),
            ("flask", "3.0.3", "approve"),
        ]);

        Assert.Equal(
        [
            "approved flask",
            "vetted flask 3.0.3",
            "approved werkzeug (dependency of flask 3.0.3)",
            "vetted werkzeug 3.0.1 (dependency of flask 3.0.3)",
        ], lines);
    }
}
