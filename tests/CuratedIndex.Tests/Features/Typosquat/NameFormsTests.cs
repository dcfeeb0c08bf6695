using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class NameFormsTests
{
    [Theory]
    [InlineData("setup-tools", "setuptools")]
    [InlineData("python-dateutil", "pythondateutil")]
    [InlineData("requests", "requests")]
    public void SeparatorFree_DropsHyphens(string name, string expected) => Assert.Equal(expected, NameForms.SeparatorFree(name));

    [Theory]
    [InlineData("jeilyfish", "jellyfish")] // "jeIlyfish": a capital I, lower-cased by PEP 503
    [InlineData("reqiests", "reqlests")]
    [InlineData("c0l0rama", "colorama")]
    [InlineData("rnatplotlib", "matplotlib")]
    [InlineData("vvheel", "wheel")]
    [InlineData("cljango", "django")]
    [InlineData("loquru", "loguru")]
    public void HomoglyphCanonical_FoldsLookalikes(string name, string expectedSameAs) =>
        Assert.Equal(NameForms.HomoglyphCanonical(expectedSameAs), NameForms.HomoglyphCanonical(name));

    [Theory]
    [InlineData("python3-dateutil", "dateutil")]
    [InlineData("python-dateutil", "dateutil")]
    [InlineData("libhtml5", "html5")]
    [InlineData("html5lib", "html5")]
    [InlineData("pycurl", "curl")]
    [InlineData("coveragepy", "coverage")]
    [InlineData("kafka-python", "kafka")]
    [InlineData("urllib3", "urllib3")] // a trailing digit is a version, not an affix
    [InlineData("requests", "requests")]
    [InlineData("pyt", "pyt")] // too short to strip: the core would be empty
    public void Core_StripsOneLanguagePrefixAndSuffix(string name, string expected) => Assert.Equal(expected, NameForms.Core(name));

    [Theory]
    [InlineData("nmap-python", "nmap-python")]
    [InlineData("python-nmap", "nmap-python")]
    public void SortedWords_IgnoresOrder(string name, string expected) => Assert.Equal(expected, NameForms.SortedWords(name));

    [Fact]
    public void SortedWords_OneWord_IsNull() => Assert.Null(NameForms.SortedWords("requests"));

    [Theory]
    [InlineData('q', 'w', true)]
    [InlineData('q', 'a', true)]
    [InlineData('g', 'h', true)]
    [InlineData('m', 'n', true)]
    [InlineData('o', 'i', true)]
    [InlineData('q', 'p', false)]
    [InlineData('a', 'l', false)]
    [InlineData('z', 'p', false)]
    [InlineData('a', 'a', false)]
    public void KeyboardAdjacent_Qwerty(char a, char b, bool expected)
    {
        Assert.Equal(expected, NameForms.KeyboardAdjacent(a, b));
        Assert.Equal(expected, NameForms.KeyboardAdjacent(b, a));
    }
}
