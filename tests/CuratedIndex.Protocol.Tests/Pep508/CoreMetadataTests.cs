using System.Text;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.Tests.SimpleApi;

namespace CuratedIndex.Protocol.Tests.Pep508;

public class CoreMetadataTests
{
    internal static CoreMetadata Load(string file)
    {
        Assert.True(CoreMetadata.TryParse(Fixture.Bytes("metadata/" + file), out var metadata, out var error), error);
        return metadata;
    }

    private static CoreMetadata ParseText(string text)
    {
        Assert.True(CoreMetadata.TryParse(Encoding.UTF8.GetBytes(text), out var metadata, out var error), error);
        return metadata;
    }

    [Fact]
    public void Ipython_pep658_metadata_gives_every_requirement_extra_and_requires_python()
    {
        var m = Load("ipython-7.5.0-py3-none-any.whl.metadata");
        Assert.Equal("2.1", m.MetadataVersion);
        Assert.Equal("ipython", m.Name);
        Assert.Equal("7.5.0", m.Version);
        Assert.Equal(">=3.5", m.RequiresPython);
        Assert.Equal(41, m.RequiresDist.Count);
        Assert.Equal("setuptools (>=18.5)", m.RequiresDist[0]);
        Assert.Equal("win-unicode-console (>=0.5); sys_platform == \"win32\" and python_version < \"3.6\"", m.RequiresDist[12]);
        Assert.Equal("numpy; extra == 'test'", m.RequiresDist[^1]);
        // "Provides-Extra: all" appears twice in the file; normalized names are listed once.
        Assert.Equal(["parallel", "nbconvert", "terminal", "kernel", "notebook", "doc", "nbformat", "test", "all", "qtconsole"], m.ProvidesExtra);
        Assert.Empty(m.Dynamic);
        Assert.All(m.RequiresDist, r => Assert.True(Requirement.TryParse(r, out _, out var error), error));
    }

    [Fact]
    public void Wheel_METADATA_with_a_description_body_gives_the_same_fields_as_the_pep658_file()
    {
        var fromWheel = Load("ipython-7.5.0-py3-none-any.dist-info-METADATA");
        var fromIndex = Load("ipython-7.5.0-py3-none-any.whl.metadata");
        Assert.Equal(fromIndex.RequiresDist, fromWheel.RequiresDist);
        Assert.Equal(fromIndex.ProvidesExtra, fromWheel.ProvidesExtra);
        Assert.Equal(fromIndex.RequiresPython, fromWheel.RequiresPython);
        Assert.Equal(fromIndex.Name, fromWheel.Name);
    }

    [Fact]
    public void Crlf_line_ends_are_read()
    {
        var m = Load("PyYAML-3.13-cp27-cp27m-win32.whl.metadata");
        Assert.Equal("PyYAML", m.Name);
        Assert.Equal("3.13", m.Version);
        Assert.Equal("2.1", m.MetadataVersion);
        Assert.Empty(m.RequiresDist);
        Assert.Null(m.RequiresPython);
    }

    [Fact]
    public void A_long_folded_description_header_does_not_end_the_headers()
    {
        // requests 2.18.4's PKG-INFO (Metadata-Version 1.1) folds a 1,644-line Description before Platform and Classifier.
        var m = Load("requests-2.18.4.tar.gz.PKG-INFO");
        Assert.Equal("requests", m.Name);
        Assert.Equal("2.18.4", m.Version);
        Assert.Empty(m.RequiresDist);
        Assert.False(m.RequiresDistIsStatic);
    }

    [Fact]
    public void Folded_continuation_lines_join_with_one_space()
    {
        var m = ParseText("Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\nRequires-Dist: pexpect;\r\n  sys_platform != \"win32\"\r\n\r\nBody: not a header\r\n");
        Assert.Equal(["pexpect; sys_platform != \"win32\""], m.RequiresDist);
        Assert.True(Requirement.TryParse(m.RequiresDist[0], out var requirement, out var error), error);
        Assert.Equal("sys_platform != \"win32\"", requirement.Marker?.ToString());
    }

    [Fact]
    public void Only_headers_before_the_first_empty_line_count()
    {
        var m = ParseText("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: a\n\nRequires-Dist: b\nName: other\n");
        Assert.Equal(["a"], m.RequiresDist);
        Assert.Equal("demo", m.Name);
    }

    [Fact]
    public void Header_names_are_case_insensitive_and_a_bom_is_skipped()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("metadata-version: 2.2\nNAME: Demo_Pkg\nversion: 1.0\nrequires-dist: a>=1\nREQUIRES-PYTHON: >=3.9\n")];
        Assert.True(CoreMetadata.TryParse(bytes, out var m, out var error), error);
        Assert.Equal("2.2", m.MetadataVersion);
        Assert.Equal("Demo_Pkg", m.Name);
        Assert.Equal(["a>=1"], m.RequiresDist);
        Assert.Equal(">=3.9", m.RequiresPython);
    }

    [Theory]
    [InlineData("poetry_core-2.1.3.tar.gz.PKG-INFO", true)]
    [InlineData("requests-2.18.4.tar.gz.PKG-INFO", false)]
    [InlineData("ipython-7.5.0-py3-none-any.whl.metadata", false)]
    public void Real_sdist_metadata_is_static_only_from_2_2(string file, bool expected) =>
        Assert.Equal(expected, Load(file).RequiresDistIsStatic);

    [Theory]
    [InlineData("Metadata-Version: 2.2\nName: d\nVersion: 1\n", true)]
    [InlineData("Metadata-Version: 2.4\nName: d\nVersion: 1\nDynamic: Version\n", true)]
    [InlineData("Metadata-Version: 2.2\nName: d\nVersion: 1\nDynamic: Requires-Dist\n", false)]
    [InlineData("Metadata-Version: 2.3\nName: d\nVersion: 1\nDynamic: Summary\nDynamic: requires-dist\n", false)]
    [InlineData("Metadata-Version: 2.1\nName: d\nVersion: 1\n", false)]
    [InlineData("Metadata-Version: 1.2\nName: d\nVersion: 1\n", false)]
    [InlineData("Metadata-Version: two\nName: d\nVersion: 1\n", false)]
    public void Requires_dist_is_static_per_pep643(string text, bool expected) =>
        Assert.Equal(expected, ParseText(text).RequiresDistIsStatic);

    [Theory]
    [InlineData("Name: d\nVersion: 1\n", "no Metadata-Version header")]
    [InlineData("Metadata-Version: 2.1\nVersion: 1\n", "no Name header")]
    [InlineData("Metadata-Version: 2.1\nName: d\n", "no Version header")]
    [InlineData("Metadata-Version: 2.1\nName:\nVersion: 1\n", "no Name header")]
    [InlineData("Metadata-Version: 2.1\nName: not a name\nVersion: 1\n", "'not a name' is not a valid project name")]
    [InlineData("", "no Metadata-Version header")]
    [InlineData("\nMetadata-Version: 2.1\nName: d\nVersion: 1\n", "no Metadata-Version header")]
    [InlineData("garbage without a colon\nMetadata-Version: 2.1\nName: d\nVersion: 1\n", "no Metadata-Version header")]
    public void Incomplete_metadata_is_refused_with_a_reason(string text, string expected)
    {
        Assert.False(CoreMetadata.TryParse(Encoding.UTF8.GetBytes(text), out var metadata, out var error));
        Assert.Null(metadata);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_and_binary_input_is_refused_without_throwing()
    {
        Assert.False(CoreMetadata.TryParse(new byte[CoreMetadata.MaxBytes + 1], out _, out var error));
        Assert.Contains("larger than", error, StringComparison.Ordinal);

        var random = new byte[4096];
        new Random(12).NextBytes(random);
        Assert.False(CoreMetadata.TryParse(random, out _, out _));

        // Invalid UTF-8 in a header we do not use is tolerated.
        byte[] latin1Author = [.. Encoding.UTF8.GetBytes("Metadata-Version: 2.1\nName: d\nAuthor: "), 0xE9, .. Encoding.UTF8.GetBytes("\nVersion: 1\n")];
        Assert.True(CoreMetadata.TryParse(latin1Author, out var m, out error), error);
        Assert.Equal("1", m.Version);
    }
}
