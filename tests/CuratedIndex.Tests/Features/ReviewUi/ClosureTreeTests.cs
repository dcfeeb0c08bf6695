using CuratedIndex.Features.Closure;
using CuratedIndex.Features.ReviewUi;

namespace CuratedIndex.Tests.Features.ReviewUi;

/// <summary>The Dependencies table's tree: each member under the member that required it first.</summary>
public sealed class ClosureTreeTests
{
    private static MemberView Member(string project, int depth, params string[] requiredBy) =>
        new(
            new ClosureMember(project, "1.0", ["3.12 manylinux_2_28_x86_64"], requiredBy.Select(r => new ClosureEdge(r, "1.0", project)).ToList(), depth, "pep658"),
            MemberStatus.Pending,
            "not decided yet",
            "",
            Blocks: false);

    private static List<string> Layout(IEnumerable<ClosureRow> rows) => rows.Select(r => $"{new string(' ', 2 * r.Indent)}{r.Member.Member.Project}").ToList();

    [Fact]
    public void Rows_PytestClosure_ChildrenFollowTheirFirstRequirerByName()
    {
        // pytest 3.5.0's closure as the service lists it: root first, then by depth and name.
        var members = new[]
        {
            Member("pytest", 0),
            Member("attrs", 1, "pytest"),
            Member("more-itertools", 1, "pytest"),
            Member("pluggy", 1, "pytest"),
            Member("py", 1, "pytest"),
            Member("setuptools", 1, "pytest"),
            Member("six", 1, "pytest", "more-itertools"),
        };

        var rows = ClosureTree.Rows(members);

        Assert.Equal(["pytest", "  attrs", "  more-itertools", "  pluggy", "  py", "  setuptools", "  six"], Layout(rows));
    }

    [Fact]
    public void Rows_DeeperMembers_NestUnderTheMemberThatRequiredThemFirst_NotALaterOne()
    {
        var members = new[]
        {
            Member("flask", 0),
            Member("jinja2", 1, "flask"),
            Member("werkzeug", 1, "flask"),
            Member("markupsafe", 2, "werkzeug", "jinja2"),
        };

        var rows = ClosureTree.Rows(members);

        Assert.Equal(["flask", "  jinja2", "  werkzeug", "    markupsafe"], Layout(rows));
    }

    [Fact]
    public void Rows_MemberWhoseFirstRequirerIsNotAMember_IsStillListed()
    {
        var members = new[]
        {
            Member("flask", 0),
            Member("click", 1, "flask"),
            Member("colorama", 2, "not-in-the-closure"),
        };

        var rows = ClosureTree.Rows(members);

        Assert.Equal(3, rows.Count);
        Assert.Contains(rows, r => r.Member.Member.Project == "colorama");
    }

    [Fact]
    public void Rows_ACycle_ListsEachMemberOnce()
    {
        var members = new[]
        {
            Member("root", 0),
            Member("a", 1, "b"),
            Member("b", 1, "a"),
        };

        var rows = ClosureTree.Rows(members);

        Assert.Equal(["a", "b", "root"], rows.Select(r => r.Member.Member.Project).Order(StringComparer.Ordinal));
    }
}
