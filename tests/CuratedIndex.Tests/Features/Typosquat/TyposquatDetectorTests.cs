using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class TyposquatDetectorTests
{
    // A small corpus with real ranks from config/top-pypi-projects.tsv keeps these tests fast and readable.
    private static readonly TyposquatDetector Detector = new(TyposquatCorpus.From(
    [
        new("boto3", 1), new("urllib3", 3), new("requests", 6), new("setuptools", 9), new("python-dateutil", 13),
        new("pyyaml", 15), new("numpy", 20), new("colorama", 81), new("matplotlib", 169), new("pymongo", 311),
        new("html5lib", 688), new("jellyfish", 1240), new("python-nmap", 8007), new("acquisition", 9359),
        new("attrs", 33), new("cattrs", 384), new("nvidia-nccl-cu12", 530),
    ]));

    [Theory]
    [InlineData("jeilyfish", "jellyfish", "Homoglyph")]
    [InlineData("rnatplotlib", "matplotlib", "Homoglyph")]
    [InlineData("setup-tools", "setuptools", "Separator")]
    [InlineData("nmap-python", "python-nmap", "LanguageWordMoved")]
    [InlineData("reqeusts", "requests", "Swapped")]
    [InlineData("requestts", "requests", "Doubled")]
    [InlineData("urlib3", "urllib3", "Dropped")]
    [InlineData("colourama", "colorama", "Added")]
    [InlineData("matplitlib", "matplotlib", "KeyboardSubstitution")]
    [InlineData("matplotlii", "matplotlib", "Substitution")]
    [InlineData("request", "requests", "TrailingLetter")]
    [InlineData("equests", "requests", "LeadingLetter")]
    [InlineData("python3-dateutil", "python-dateutil", "AffixSwapped")]
    [InlineData("python-mongo", "pymongo", "AffixSwapped")]
    [InlineData("libhtml5", "html5lib", "AffixSwapped")]
    [InlineData("python-colorama", "colorama", "AffixAdded")]
    [InlineData("pyreqeusts", "requests", "AffixAndTypo")]
    public void CheckAll_EachTransformation_NamesImitatedProjectAndKind(string name, string imitated, string kind)
    {
        var finding = Detector.CheckAll(name).FirstOrDefault(f => f.Imitated == imitated);
        Assert.NotNull(finding);
        Assert.Equal(imitated, finding.Imitated);
        Assert.Equal(kind, finding.Kind.ToString());
        Assert.InRange(finding.Score, Detector.Threshold, 1.0);
        Assert.Contains(finding.Reasons, r => r.Contains($"'{imitated}'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("sympy-dev", "sympy")]
    [InlineData("pytz3-dev", "pytz")]
    [InlineData("fake-useragent-ex", "fake-useragent")]
    [InlineData("requests-official", "requests")]
    public void CheckAll_PopularNameWithReleaseWord_IsReleaseWordFinding(string name, string imitated)
    {
        var detector = new TyposquatDetector(TyposquatCorpus.From([new("sympy", 264), new("pytz", 27), new("fake-useragent", 1164), new("requests", 6)]));

        var finding = detector.CheckAll(name).SingleOrDefault(f => f.Imitated == imitated);

        Assert.NotNull(finding);
        Assert.Equal(TyposquatKind.ReleaseWord, finding.Kind);
        Assert.StartsWith($"'-{name[(name.LastIndexOf('-') + 1)..]}' added as if it were a build of '{imitated}'", finding.Reasons.Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pyradex")] // "ex" only counts as a separate word
    [InlineData("sympy-nightly")] // projects publish their own nightly builds
    [InlineData("sympy-devtools")]
    public void CheckAll_ReleaseWordLookalikes_NotReleaseWordFindings(string name)
    {
        var detector = new TyposquatDetector(TyposquatCorpus.From([new("sympy", 264), new("pyrad", 5000)]));

        Assert.DoesNotContain(detector.CheckAll(name), f => f.Kind == TyposquatKind.ReleaseWord);
    }

    [Fact]
    public void CheckAll_MisspelledPopularNameAsOneWord_IsMisspelledWordFinding()
    {
        var finding = Detector.CheckAll("matplitlib-terminal").SingleOrDefault(f => f.Imitated == "matplotlib");

        Assert.NotNull(finding);
        Assert.Equal(TyposquatKind.MisspelledWord, finding.Kind);
        Assert.Equal("the word 'matplitlib' is 'matplotlib' (rank 169) misspelled ('o' replaced by its keyboard neighbour 'i')", finding.Reasons.Single());
    }

    [Theory]
    [InlineData("matplotlib-terminal")] // the right spelling: a plugin's name, not a typo
    [InlineData("terminal-matplotlibs")] // a plural says little
    [InlineData("acquisitian-tools")] // rank 9,359: too far down the list to look for inside names
    [InlineData("reqests-cli")] // a word shorter than nine letters
    public void CheckAll_WordsThatAreNotMisspelledPopularNames_NoMisspelledWordFinding(string name)
    {
        Assert.DoesNotContain(Detector.CheckAll(name), f => f.Kind == TyposquatKind.MisspelledWord);
    }

    [Fact]
    public void CheckAll_AffixChangedAndLettersSwapped_ScoresAboveOtherAffixTypos()
    {
        var detector = new TyposquatDetector(TyposquatCorpus.From([new("opencv-python", 533), new("opencv-contrib", 533)]));

        var swapped = detector.CheckAll("openvc").Single(f => f.Imitated == "opencv-python");

        Assert.Equal(TyposquatKind.AffixAndTypo, swapped.Kind);
        Assert.Contains(swapped.Reasons, r => r.StartsWith("prefix or suffix changed and two letters swapped", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("libcurl", "pycurl")]
    [InlineData("curl-py", "pycurl")]
    public void CheckAll_AffixSwappedAroundFourLetterCore_Flagged(string name, string imitated)
    {
        var detector = new TyposquatDetector(TyposquatCorpus.From([new("pycurl", 2126)]));

        var finding = detector.CheckAll(name).SingleOrDefault(f => f.Imitated == imitated);

        Assert.NotNull(finding);
        Assert.Equal(TyposquatKind.AffixSwapped, finding.Kind);
    }

    [Fact]
    public void Check_Swapped_ReasonNamesEditAndRank()
    {
        var finding = Detector.Check("reqeusts");
        Assert.NotNull(finding);
        Assert.Equal("edit distance 1 (swapped characters) from 'requests' (rank 6)", finding.Reasons[0]);
        Assert.Equal(6, finding.Rank);
        Assert.Equal("reqeusts\trequests\t0.92\tedit distance 1 (swapped characters) from 'requests' (rank 6)", finding.ToTsv());
    }

    [Fact]
    public void Score_SameEdit_HigherForMorePopularProject()
    {
        var popular = Detector.CheckAll("reqeusts").Single(f => f.Imitated == "requests");
        var lessPopular = Detector.CheckAll("jellyfihs").Single(f => f.Imitated == "jellyfish");
        Assert.True(popular.Score > lessPopular.Score, $"{popular.Score} vs {lessPopular.Score}");
    }

    [Fact]
    public void Score_SameProject_SwapOutranksTrailingLetter()
    {
        var swapped = Detector.Check("reqeusts")!;
        var plural = Detector.Check("request")!;
        Assert.True(swapped.Score > plural.Score, $"{swapped.Score} vs {plural.Score}");
    }

    [Theory]
    [InlineData("requests")]
    [InlineData("Requests")] // the same project after PEP 503 normalization
    [InlineData("python_dateutil")]
    [InlineData("attrs")] // one edit from cattrs, but established itself
    [InlineData("cattrs")]
    public void Check_EstablishedName_IsNeverFlagged(string name)
    {
        Assert.True(Detector.IsEstablished(name));
        Assert.Null(Detector.Check(name));
    }

    [Fact]
    public void Check_OrganizationName_IsEstablishedAndImitable()
    {
        var detector = Detector.WithOrganizationNames(["acme-billing", "reqeusts"]);
        Assert.Null(detector.Check("reqeusts")); // approved by the organization: established
        Assert.Null(detector.Check("acme-billing"));

        var finding = detector.Check("acme-biling");
        Assert.NotNull(finding);
        Assert.Equal("acme-billing", finding.Imitated);
        Assert.Null(finding.Rank);
        Assert.Contains("(organization name)", finding.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flask")]
    [InlineData("nvidia-nccl-cu13")] // a changed version digit
    [InlineData("abc")]
    [InlineData("not a name!")]
    [InlineData("")]
    public void Check_UnrelatedOrSiblingOrInvalid_NoFinding(string name) => Assert.Null(Detector.Check(name));

    [Fact]
    public void CheckAgainstOthers_CorpusName_IgnoresItselfOnly()
    {
        var detector = new TyposquatDetector(TyposquatCorpus.From([new("requests", 6), new("reqeusts", 5000)]));
        Assert.Null(detector.Check("reqeusts")); // established
        var findings = detector.CheckAgainstOthers("reqeusts");
        Assert.Equal("requests", Assert.Single(findings).Imitated);
    }
}
