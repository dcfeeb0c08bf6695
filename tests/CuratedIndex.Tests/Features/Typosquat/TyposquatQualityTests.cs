using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

/// <summary>The labelled set of real typosquats (Fixtures/typosquats) against the shipped corpus.</summary>
public class TyposquatQualityTests
{
    // The target is 0.9; the detector is not there (README, "Typosquat detection"). These floors are the
    // measured values and guard against regressions: raise them with the detector, never lower them to make a change
    // pass. The first 39 pairs were collected first (32 found); 18 more from a second, blind collection brought the set
    // to 57 (41 found, 0.719).
    private const double FirstCollectionFloor = 0.82;
    private const int FirstCollectionSize = 39;
    private const double RecallFloor = 0.71;

    [Fact]
    public void CheckAll_LabelledTyposquats_RecallAtLeastFloor()
    {
        var detector = new TyposquatDetector(TyposquatCorpus.Load(Path.Combine(AppContext.BaseDirectory, "config", "top-pypi-projects.tsv")));
        var pairs = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "typosquats", "labelled.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t'))
            .ToList();
        var found = pairs.Select(p => detector.CheckAll(p[0]).Any(f => f.Imitated == p[1])).ToList();
        string Missed(int count) => string.Join(", ", pairs.Take(count).Where((_, i) => !found[i]).Select(p => $"{p[0]} -> {p[1]}"));

        var recall = (double)found.Count(f => f) / pairs.Count;
        var firstRecall = (double)found.Take(FirstCollectionSize).Count(f => f) / FirstCollectionSize;
        Assert.True(pairs.Count >= 57, $"labelled set has only {pairs.Count} pairs");
        Assert.True(firstRecall >= FirstCollectionFloor, $"recall on the first {FirstCollectionSize} pairs {firstRecall:P1}; missed: {Missed(FirstCollectionSize)}");
        Assert.True(recall >= RecallFloor, $"recall {recall:P1}; missed: {Missed(pairs.Count)}");
    }
}
