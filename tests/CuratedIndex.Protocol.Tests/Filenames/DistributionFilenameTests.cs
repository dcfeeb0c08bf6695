using CuratedIndex.Protocol;

namespace CuratedIndex.Protocol.Tests.Filenames;

public class DistributionFilenameTests
{
    [Theory]
    [InlineData("numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "numpy", "numpy", "2.1.0", null, "cp312", "cp312", "manylinux_2_17_x86_64|manylinux2014_x86_64")]
    [InlineData("torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl", "torch", "torch", "2.3.0+cpu", null, "cp311", "cp311", "linux_x86_64")]
    [InlineData("six-1.17.0-py2.py3-none-any.whl", "six", "six", "1.17.0", null, "py2|py3", "none", "any")]
    [InlineData("distribution-1.0-1-py27-none-any.whl", "distribution", "distribution", "1.0", "1", "py27", "none", "any")]
    [InlineData("pkg-2.0-2b-cp39-abi3-win_amd64.whl", null, "pkg", "2.0", "2b", "cp39", "abi3", "win_amd64")]
    [InlineData("zope.interface-6.0-cp311-cp311-macosx_11_0_arm64.whl", "zope-interface", "zope-interface", "6.0", null, "cp311", "cp311", "macosx_11_0_arm64")]
    [InlineData("python_dateutil-2.8.2-py2.py3-none-any.whl", "python-dateutil", "python-dateutil", "2.8.2", null, "py2|py3", "none", "any")]
    [InlineData("python-dateutil-2.8.2-py2.py3-none-any.whl", "python_dateutil", "python-dateutil", "2.8.2", null, "py2|py3", "none", "any")]
    [InlineData("Pillow-10.0.0-cp312-cp312-win_amd64.WHL", "pillow", "pillow", "10.0.0", null, "cp312", "cp312", "win_amd64")]
    public void TryParse_Wheel_SplitsAllParts(string filename, string? expected, string project, string version, string? build, string py, string abi, string plat)
    {
        Assert.True(DistributionFilename.TryParse(filename, expected, out var result));
        Assert.Equal(filename, result.Filename);
        Assert.Equal(DistributionKind.Wheel, result.Kind);
        Assert.Equal(project, result.Project);
        Assert.Equal(version, result.Version);
        Assert.Equal(build, result.BuildTag);
        Assert.Equal(py.Split('|'), result.PythonTags);
        Assert.Equal(abi.Split('|'), result.AbiTags);
        Assert.Equal(plat.Split('|'), result.PlatformTags);
    }

    [Theory]
    [InlineData("python-dateutil-2.8.2.tar.gz", "python-dateutil", "python-dateutil", "2.8.2")]
    [InlineData("python-dateutil-2.8.2.tar.gz", "Python_Dateutil", "python-dateutil", "2.8.2")]
    [InlineData("python-dateutil-2.8.2.tar.gz", null, "python-dateutil", "2.8.2")]
    [InlineData("zope.interface-6.0.tar.gz", "zope.interface", "zope-interface", "6.0")]
    [InlineData("zope.interface-6.0.tar.gz", null, "zope-interface", "6.0")]
    [InlineData("numpy-1.6.0.zip", "numpy", "numpy", "1.6.0")]
    [InlineData("pytz-2005k.tar.bz2", "pytz", "pytz", "2005k")]
    [InlineData("pytz-2004d.tar.gz", null, "pytz", "2004d")]
    [InlineData("foo-1.0.tgz", null, "foo", "1.0")]
    [InlineData("foo-1.0.tar.xz", null, "foo", "1.0")]
    [InlineData("foo-1.0.tar", null, "foo", "1.0")]
    [InlineData("xo-gd-3.2.2-5.tar.gz", "xo-gd", "xo-gd", "3.2.2-5")]
    [InlineData("xo-gd-3.2.2-5.tar.gz", null, "xo-gd", "3.2.2-5")]
    [InlineData("py-3to2-1.0.tar.gz", null, "py-3to2", "1.0")]
    [InlineData("foo-2-bar-1.0b1.tar.gz", "foo-2-bar", "foo-2-bar", "1.0b1")]
    [InlineData("aws-adfs-ebsco-0.3.6-2.tar.gz", "aws-adfs-ebsco", "aws-adfs-ebsco", "0.3.6-2")]
    public void TryParse_Sdist_SplitsNameAndVersion(string filename, string? expected, string project, string version)
    {
        Assert.True(DistributionFilename.TryParse(filename, expected, out var result));
        Assert.Equal(DistributionKind.Sdist, result.Kind);
        Assert.Equal(project, result.Project);
        Assert.Equal(version, result.Version);
        Assert.Null(result.BuildTag);
        Assert.Empty(result.PythonTags);
        Assert.Empty(result.AbiTags);
        Assert.Empty(result.PlatformTags);
    }

    [Theory]
    [InlineData("foo-1.0-py2.7.egg", "foo", "foo", "1.0")]
    [InlineData("foo-1.0-py2.7.egg", null, "foo", "1.0")]
    [InlineData("pytz-2006g-py2.4.egg", "pytz", "pytz", "2006g")]
    [InlineData("foo-1.0.egg", null, "foo", "1.0")]
    [InlineData("numpy-1.0-py2.5-macosx-10.3-fat.egg", "numpy", "numpy", "1.0")]
    [InlineData("zope.interface-3.5.0-py2.5-linux-x86_64.egg", "zope-interface", "zope-interface", "3.5.0")]
    public void TryParse_Egg_SplitsNameAndVersion(string filename, string? expected, string project, string version)
    {
        Assert.True(DistributionFilename.TryParse(filename, expected, out var result));
        Assert.Equal(DistributionKind.Egg, result.Kind);
        Assert.Equal(project, result.Project);
        Assert.Equal(version, result.Version);
        Assert.Empty(result.PythonTags);
    }

    [Theory]
    [InlineData("numpy-1.0.1.dev3460.win32-py2.4.exe", "numpy", "numpy", "1.0.1.dev3460")]
    [InlineData("numpy-1.5.1.win32-py2.7-nosse.exe", "numpy", "numpy", "1.5.1")]
    [InlineData("numpy-1.9.2-win32-superpack-python2.7.exe", null, "numpy", "1.9.2")]
    [InlineData("foo-1.0.win-amd64-py2.7.msi", "foo", "foo", "1.0")]
    [InlineData("foo-1.0-1.noarch.rpm", "foo", "foo", "1.0")]
    [InlineData("foo-1.0-macosx10.6.dmg", null, "foo", "1.0")]
    [InlineData("setup.exe", null, "setup", "setup")]
    public void TryParse_LegacyInstaller_BestEffortVersion(string filename, string? expected, string project, string version)
    {
        Assert.True(DistributionFilename.TryParse(filename, expected, out var result));
        Assert.Equal(DistributionKind.Other, result.Kind);
        Assert.Equal(project, result.Project);
        Assert.Equal(version, result.Version);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData(".whl", null)]
    [InlineData("numpy.whl", null)]
    [InlineData("numpy-1.0-cp312-cp312.whl", null)]
    [InlineData("numpy-1.0-x-y-cp312-cp312-any.whl", null)]
    [InlineData("numpy-1.0-b1-cp312-cp312-any.whl", null)]
    [InlineData("numpy-1.0--cp312-any.whl", null)]
    [InlineData("numpy-2.1.0-cp312-cp312-any.whl", "scipy")]
    [InlineData("python-dateutil-2.8.2.tar.gz", "python")]
    [InlineData("python-dateutil-2.8.2.tar.gz", "dateutil")]
    [InlineData("foo.tar.gz", null)]
    [InlineData("foo-bar.tar.gz", null)]
    [InlineData("foo-.tar.gz", "foo")]
    [InlineData("foo-1.0.txt", null)]
    [InlineData("foo-1.0.tar.gz.asc", null)]
    [InlineData("foo-1.0-cp27.egg", null)]
    [InlineData("foo-1.0.exe", "bar")]
    public void TryParse_NotADistributionOrWrongProject_ReturnsFalse(string filename, string? expected)
    {
        Assert.False(DistributionFilename.TryParse(filename, expected, out var result));
        Assert.Null(result);
    }

    [Theory]
    [InlineData("numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")]
    [InlineData("torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl")]
    [InlineData("python-dateutil-2.8.2.tar.gz")]
    [InlineData("foo-1!2.0.tar.gz")]
    [InlineData("foo~1.0.zip")]
    [InlineData("a")]
    public void IsSafe_OrdinaryFilenames_ReturnsTrue(string filename)
    {
        Assert.True(DistributionFilename.IsSafe(filename));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../../etc/passwd")]
    [InlineData("a/b.whl")]
    [InlineData("a\\b.whl")]
    [InlineData("x%2f.whl")]
    [InlineData(".hidden.whl")]
    [InlineData("-rf.tar.gz")]
    [InlineData("c:foo.whl")]
    [InlineData("foo\0.whl")]
    [InlineData("foo\n.whl")]
    [InlineData("foo\r.whl")]
    [InlineData("foo\t.whl")]
    [InlineData("foo\u007f.whl")]
    [InlineData("foo\u0085.whl")]
    [InlineData("foo bar.whl")]
    [InlineData("föö-1.0.tar.gz")]
    [InlineData("foo\u2215bar.whl")]
    [InlineData("foo?.whl")]
    [InlineData("foo#.whl")]
    [InlineData("foo*.whl")]
    [InlineData("foo\".whl")]
    [InlineData("foo<a>.whl")]
    [InlineData("foo|bar.whl")]
    public void IsSafe_HostileFilenames_ReturnsFalse(string? filename)
    {
        Assert.False(DistributionFilename.IsSafe(filename));
    }

    [Theory]
    [InlineData(255, true)]
    [InlineData(256, false)]
    [InlineData(300, false)]
    public void IsSafe_Length_LimitedTo255(int length, bool expected)
    {
        var filename = new string('a', length - 4) + ".whl";
        Assert.Equal(expected, DistributionFilename.IsSafe(filename));
    }
}
