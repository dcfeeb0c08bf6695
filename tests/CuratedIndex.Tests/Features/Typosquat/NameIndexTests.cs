using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class NameIndexTests
{
    // "abcx" is one edit from each of the three: all share the deletion "abc".
    private static readonly NameIndex Index = NameIndex.Build([new("abcd", 1), new("abce", 2), new("abcf", 3), new("bookkeeper", 4)]);

    [Fact]
    public void FindCandidates_SharedDeletion_YieldsTheMostRecentlyAddedTargetFirst()
    {
        Assert.Equal(["abcf", "abce", "abcd"], Index.FindCandidatesSlow(new Forms("abcx")).Select(id => Index.Targets[id].Name));
    }

    [Fact]
    public void FindCandidates_MoreThanTheSetHolds_KeepsTheFirstInThatOrderAndSaysItOverflowed()
    {
        Span<int> buffer = stackalloc int[2];
        var set = new TargetSet(buffer);
        Index.FindCandidates(new Forms("abcx"), ref set);

        Assert.True(set.Overflowed);
        Assert.Equal(["abcf", "abce"], set.Items.ToArray().Select(id => Index.Targets[id].Name));
    }

    [Theory]
    [InlineData("bokkeeper")] // either 'o' dropped gives the same deletion
    [InlineData("bookeeper")]
    [InlineData("bookkeper")]
    public void FindWithinOneEdit_DoubledLetterDropped_FindsTheTarget(string word)
    {
        Span<int> buffer = stackalloc int[4];
        var set = new TargetSet(buffer);
        Index.FindWithinOneEdit(word, ref set);

        Assert.Equal(["bookkeeper"], set.Items.ToArray().Select(id => Index.Targets[id].Name));
    }

    [Fact]
    public void FindCandidates_NameLikeNoTarget_FindsNothing()
    {
        Assert.Empty(Index.FindCandidatesSlow(new Forms("zzzzzz")));
    }
}
