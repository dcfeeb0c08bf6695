using CuratedIndex.Protocol;

namespace CuratedIndex.Protocol.Tests.Names;

public class ProjectNameTests
{
    [Theory]
    [InlineData("Friendly-Bard")]
    [InlineData("FRIENDLY-BARD")]
    [InlineData("friendly.bard")]
    [InlineData("friendly_bard")]
    [InlineData("friendly--bard")]
    [InlineData("FrIeNdLy-._.-bArD")]
    [InlineData("friendly-bard")]
    public void Normalize_Pep503Examples_ReturnsFriendlyBard(string name)
    {
        Assert.Equal("friendly-bard", ProjectName.Normalize(name));
    }

    [Theory]
    [InlineData("Django", "django")]
    [InlineData("zope.interface", "zope-interface")]
    [InlineData("python_dateutil", "python-dateutil")]
    [InlineData("A", "a")]
    [InlineData("a__b..c--d", "a-b-c-d")]
    [InlineData("-leading", "-leading")]
    [InlineData("_leading.", "-leading-")]
    [InlineData("ÜNICODE", "Ünicode")]
    public void Normalize_VariousNames_CollapsesSeparatorsAndLowersAscii(string name, string expected)
    {
        Assert.Equal(expected, ProjectName.Normalize(name));
    }

    [Fact]
    public void Normalize_AlreadyNormalized_ReturnsSameInstance()
    {
        var name = "already-normal";
        Assert.Same(name, ProjectName.Normalize(name));
    }

    [Theory]
    [InlineData("friendly-bard", true)]
    [InlineData("numpy", true)]
    [InlineData("a-b-c", true)]
    [InlineData("", true)]
    [InlineData("Friendly-Bard", false)]
    [InlineData("friendly_bard", false)]
    [InlineData("friendly.bard", false)]
    [InlineData("friendly--bard", false)]
    public void IsNormalized_Name_ReportsWhetherNormalizeChangesIt(string name, bool expected)
    {
        Assert.Equal(expected, ProjectName.IsNormalized(name));
        Assert.Equal(expected, ProjectName.Normalize(name) == name);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("A")]
    [InlineData("0")]
    [InlineData("numpy")]
    [InlineData("zope.interface")]
    [InlineData("python-dateutil")]
    [InlineData("Friendly_Bard")]
    [InlineData("a-._-b")]
    public void IsValid_ValidNames_ReturnsTrue(string name)
    {
        Assert.True(ProjectName.IsValid(name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData(".abc")]
    [InlineData("abc_")]
    [InlineData("a b")]
    [InlineData("ünicode")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\0b")]
    [InlineData("a+b")]
    [InlineData(" abc")]
    public void IsValid_InvalidNames_ReturnsFalse(string? name)
    {
        Assert.False(ProjectName.IsValid(name));
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(201, false)]
    public void IsValid_LengthAtAndBeyondMax_ReturnsExpected(int length, bool expected)
    {
        Assert.Equal(ProjectName.MaxLength, 200);
        Assert.Equal(expected, ProjectName.IsValid(new string('a', length)));
    }
}
