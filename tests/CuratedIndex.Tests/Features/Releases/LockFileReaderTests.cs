using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Releases;

public sealed class LockFileReaderTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lockfiles");

    private readonly string _temp = Directory.CreateTempSubdirectory("lockfiles-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void Read_PipCompileOutput_ReadsEveryPinWithItsHashes()
    {
        var path = Path.Combine(Fixtures, "requirements.txt");

        var result = LockFileReader.Read(path);

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        Assert.Empty(result.Problems);
        Assert.Equal(
            ["first==2.0.2", "jmespath==0.10.0", "six==1.17.0", "typing-extensions==4.4.0", "zipp==3.7.0", "setuptools==67.6.1"],
            result.Requirements.Select(r => $"{r.Name}=={r.PinnedVersion}"));
        var first = result.Requirements[0];
        Assert.Equal(10, first.Line);
        Assert.Equal(path, first.File);
        Assert.Equal("first==2.0.2", first.Text);
        Assert.Equal("==2.0.2", first.SpecifierText);
        Assert.Equal(["8d8e46e115ea8ac652c76123c0865e3ff18372aef6f03c22809ceefcea9dec86"], first.Sha256);
        var typing = result.Requirements[3];
        Assert.Equal("python_version < \"3.12\"", typing.Marker);
        Assert.Equal(19, typing.Line);
        var zipp = result.Requirements[4];
        Assert.Equal(2, zipp.Sha256.Count);
        Assert.All(result.Requirements, r => Assert.False(r.IsConstraint));
        Assert.All(result.Requirements, r => Assert.Empty(r.Files));
    }

    [Fact]
    public void Read_IncludesAndConstraints_ResolvedRelativeToTheIncludingFile()
    {
        // Read from another working directory's point of view: includes must not depend on the current directory.
        var result = LockFileReader.Read(Path.Combine(Fixtures, "requirements-dev.txt"));

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        var names = result.Requirements.Select(r => r.Name).ToList();
        Assert.Equal(["first", "jmespath", "six", "typing-extensions", "zipp", "setuptools", "poetry-core", "editables", "wheel"], names);
        var constraint = result.Requirements.Single(r => r.Name == "poetry-core");
        Assert.True(constraint.IsConstraint);
        Assert.Null(constraint.PinnedVersion);
        Assert.Equal("<3,>=1.9", constraint.SpecifierText);
        Assert.EndsWith("constraints.txt", constraint.File);
        var wheel = result.Requirements.Single(r => r.Name == "wheel");
        Assert.Equal(["test"], wheel.Extras);
        Assert.Equal("0.40.0", wheel.PinnedVersion?.ToString());
    }

    [Fact]
    public void Read_IncludeCycle_RefusedAtTheIncludingLine()
    {
        File.WriteAllText(Path.Combine(_temp, "a.txt"), "six==1.17.0\n-r b.txt\n");
        File.WriteAllText(Path.Combine(_temp, "b.txt"), "# loops back\n-r a.txt\nfirst==2.0.2\n");

        var result = LockFileReader.Read(Path.Combine(_temp, "a.txt"));

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(Path.Combine(_temp, "b.txt"), error.File);
        Assert.Equal(2, error.Line);
        Assert.Contains("include cycle", error.Message);
        Assert.Equal(["six", "first"], result.Requirements.Select(r => r.Name));
    }

    [Fact]
    public void Read_SameFileIncludedTwice_ReadOnce()
    {
        File.WriteAllText(Path.Combine(_temp, "base.txt"), "six==1.17.0\n");
        File.WriteAllText(Path.Combine(_temp, "a.txt"), "-r base.txt\n-r ./base.txt\n");

        var result = LockFileReader.Read(Path.Combine(_temp, "a.txt"));

        Assert.True(result.IsValid);
        Assert.Single(result.Requirements);
    }

    [Fact]
    public void Read_ConflictingPinsAcrossIncludes_Refused()
    {
        File.WriteAllText(Path.Combine(_temp, "base.txt"), "six==1.16.0\nfirst==2.0.2\n");
        File.WriteAllText(Path.Combine(_temp, "a.txt"), "-r base.txt\nfirst==2.0.2\nsix==1.17.0\nzipp==3.6.0 ; python_version < \"3.8\"\nzipp==3.7.0 ; python_version >= \"3.8\"\n");

        var result = LockFileReader.Read(Path.Combine(_temp, "a.txt"));

        var error = Assert.Single(result.Errors);
        Assert.Equal($"{Path.Combine(_temp, "a.txt")}:3: six is pinned to 1.17.0 here and to 1.16.0 at {Path.Combine(_temp, "base.txt")}:1", error.ToString());
    }

    [Fact]
    public void Read_MissingInclude_NamesFileLineAndTarget()
    {
        var path = Path.Combine(_temp, "a.txt");
        File.WriteAllText(path, "six==1.17.0\n\n--requirement=missing.txt\n");

        var result = LockFileReader.Read(path);

        var error = Assert.Single(result.Errors);
        Assert.Equal($"{path}:3: cannot read included file '{Path.Combine(_temp, "missing.txt")}': no such file", error.ToString());
    }

    [Fact]
    public void Read_MissingFileOrDirectory_ErrorNotException()
    {
        var missing = LockFileReader.Read(Path.Combine(_temp, "nope.txt"));
        var directory = LockFileReader.Read(_temp);

        Assert.Contains("no such file", Assert.Single(missing.Errors).Message);
        Assert.Contains("directory", Assert.Single(directory.Errors).Message);
    }

    [Fact]
    public void Read_NotUtf8_Refused()
    {
        var path = Path.Combine(_temp, "requirements.txt");
        File.WriteAllBytes(path, [0x73, 0x69, 0x78, 0xff, 0xfe, 0x0a]);

        var result = LockFileReader.Read(path);

        Assert.Contains("not UTF-8", Assert.Single(result.Errors).Message);
    }

    [Theory]
    [InlineData("uv.lock")]
    [InlineData("poetry.lock")]
    [InlineData("Pipfile.toml")]
    public void Read_OtherLockFormats_RefusedByName(string name)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, "version = 1\n");

        var result = LockFileReader.Read(path);

        Assert.Contains("not a format read here", Assert.Single(result.Errors).Message);
    }

    [Theory]
    [InlineData("Foo_Bar[Socks, security] >=2,<3 ; python_version < \"3.12\"", "foo-bar", "<3,>=2", null, "socks,security", "python_version < \"3.12\"")]
    [InlineData("requests", "requests", "", null, "", null)]
    [InlineData("zope.interface (==6.0)", "zope-interface", "==6.0", "6.0", "", null)]
    [InlineData("django==4.2.*", "django", "==4.2.*", null, "", null)]
    [InlineData("numpy == 1.26.4", "numpy", "==1.26.4", "1.26.4", "", null)]
    [InlineData("pkg~=1.4.5", "pkg", "~=1.4.5", null, "", null)]
    [InlineData("pkg===1.0-legacy", "pkg", "===1.0-legacy", null, "", null)]
    [InlineData("black==24.1.0;python_version>='3.8'", "black", "==24.1.0", "24.1.0", "", "python_version>='3.8'")]
    public void ReadRequirementsText_RequirementForms_Parsed(string line, string name, string specifier, string? pinned, string extras, string? marker)
    {
        var result = LockFileReader.ReadRequirementsText(line + "\n", "requirements.txt");

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        var requirement = Assert.Single(result.Requirements);
        Assert.Equal(name, requirement.Name);
        Assert.Equal(specifier, requirement.SpecifierText);
        Assert.Equal(pinned, requirement.PinnedVersion?.ToString());
        Assert.Equal(extras, string.Join(',', requirement.Extras));
        Assert.Equal(marker, requirement.Marker);
        Assert.Equal(1, requirement.Line);
    }

    [Fact]
    public void ReadRequirementsText_CommentsAndContinuations_LikePip()
    {
        const string text = """
            # leading comment
            six==1.17.0  # pinned: see ticket 12
            first \
                ==2.0.2 \
                --hash=sha256:8D8E46E115EA8AC652C76123C0865E3FF18372AEF6F03C22809CEEFCEA9DEC86
                # via -r requirements.in

            -i https://example.invalid/simple
            --extra-index-url=https://example.invalid/extra
            --find-links ./wheels
            --prefer-binary
            jmespath==0.10.0 --hash sha256:cdf6525904cc597730141d61b36f2e4b8ecc257c420fa2f4549bac2c2d0cb72f
            """;

        var result = LockFileReader.ReadRequirementsText(text, "requirements.txt");

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        Assert.Equal(["six", "first", "jmespath"], result.Requirements.Select(r => r.Name));
        Assert.Equal([2, 3, 12], result.Requirements.Select(r => r.Line));
        Assert.Equal("first ==2.0.2", result.Requirements[1].Text);
        Assert.Equal(["8d8e46e115ea8ac652c76123c0865e3ff18372aef6f03c22809ceefcea9dec86"], result.Requirements[1].Sha256);
        Assert.Equal(["cdf6525904cc597730141d61b36f2e4b8ecc257c420fa2f4549bac2c2d0cb72f"], result.Requirements[2].Sha256);
    }

    [Fact]
    public void Read_CrlfLineEndingsAndByteOrderMark_ReadLikeLf()
    {
        var lf = File.ReadAllText(Path.Combine(Fixtures, "requirements.txt"));
        var path = Path.Combine(_temp, "requirements.txt");
        File.WriteAllText(path, lf.Replace("\n", "\r\n", StringComparison.Ordinal), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var crlf = LockFileReader.Read(path);
        var fromText = LockFileReader.ReadRequirementsText("\uFEFF" + lf.Replace("\n", "\r\n", StringComparison.Ordinal), "requirements.txt");
        var expected = LockFileReader.Read(Path.Combine(Fixtures, "requirements.txt"));

        Assert.True(crlf.IsValid, string.Join('\n', crlf.Problems));
        Assert.True(fromText.IsValid, string.Join('\n', fromText.Problems));
        Assert.Equal(Summaries(expected), Summaries(crlf));
        Assert.Equal(Summaries(expected), Summaries(fromText));
    }

    [Theory]
    [InlineData("foo @ https://example.invalid/foo-1.0.tar.gz", "URL requirement")]
    [InlineData("foo@git+https://github.com/o/foo", "URL requirement")]
    [InlineData("git+https://github.com/o/foo#egg=foo", "URL requirement")]
    [InlineData("./dist/foo-1.0-py3-none-any.whl", "path requirement")]
    [InlineData("foo-1.0-py3-none-any.whl", "path requirement")]
    [InlineData("vendor/foo", "path requirement")]
    [InlineData("-e .", "editable requirement")]
    [InlineData("--editable=git+https://github.com/o/foo#egg=foo", "editable requirement")]
    [InlineData("foo==1.0 --hash=sha256:abc", "is not 64 hex characters")]
    [InlineData("foo==1.0 --hash=md5:d41d8cd98f00b204e9800998ecf8427e", "unknown hash algorithm 'md5'")]
    [InlineData("foo==1.0 --hash", "algorithm:hexdigest")]
    [InlineData("foo==1.0 --no-deps", "unknown option '--no-deps'")]
    [InlineData("foo==", "invalid PEP 440 version specifier")]
    [InlineData("foo>=3.6.*", "invalid PEP 440 version specifier")]
    [InlineData("foo 1.0", "unparseable requirement")]
    [InlineData("foo[bar==1.0", "unclosed '['")]
    [InlineData("foo==1.0 ;", "empty environment marker")]
    [InlineData("_foo==1.0", "no valid project name")]
    [InlineData("--frobnicate", "unknown option '--frobnicate'")]
    [InlineData("-r https://example.invalid/requirements.txt", "is a URL")]
    [InlineData("-c", "needs a file name")]
    public void ReadRequirementsText_WhatAnIndexCannotServeOrUnreadable_RefusedWithFileAndLine(string line, string expected)
    {
        var result = LockFileReader.ReadRequirementsText($"six==1.17.0\n{line}\nfirst==2.0.2\n", "svc/requirements.txt");

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal("svc/requirements.txt", error.File);
        Assert.Equal(2, error.Line);
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("svc/requirements.txt:2: ", error.ToString());
        Assert.Equal(["six", "first"], result.Requirements.Select(r => r.Name));
    }

    [Fact]
    public void ReadRequirementsText_Sha512Hash_KeptAsNoteNotPinned()
    {
        var sha512 = new string('a', 128);

        var result = LockFileReader.ReadRequirementsText($"six==1.17.0 --hash=sha512:{sha512}\n", "requirements.txt");

        Assert.True(result.IsValid);
        Assert.Empty(Assert.Single(result.Requirements).Sha256);
        Assert.Contains("sha512 hash kept as information only", Assert.Single(result.Notes).Message);
    }

    [Fact]
    public void Read_Pylock_ReadsPackagesFilesAndHashes()
    {
        var path = Path.Combine(Fixtures, "pylock.toml");

        var result = LockFileReader.Read(path);

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        Assert.Equal(
            ["first==2.0.2", "six==1.17.0", "typing-extensions==4.4.0", "zipp==3.7.0"],
            result.Requirements.Select(r => $"{r.Name}=={r.PinnedVersion}"));
        Assert.Equal([9, 21, 31, 44], result.Requirements.Select(r => r.Line));
        var six = result.Requirements[1];
        var sixFile = Assert.Single(six.Files);
        Assert.Equal(new LockedFile("six-1.17.0-py2.py3-none-any.whl", "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274", 11050), sixFile);
        Assert.Equal(["4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"], six.Sha256);
        var typing = result.Requirements[2];
        Assert.Equal("python_version < '3.12'", typing.Marker);
        Assert.Equal("Typing_Extensions==4.4.0 ; python_version < '3.12'", typing.Text);
        var zipp = result.Requirements[3];
        Assert.Equal(["zipp-3.7.0.tar.gz", "zipp-3.7.0-py3-none-any.whl"], zipp.Files.Select(f => f.Filename));
        Assert.Equal(2, zipp.Sha256.Count);
    }

    [Fact]
    public void Read_PylockIncludedFromRequirementsFile_ReadAsPylock()
    {
        File.Copy(Path.Combine(Fixtures, "pylock.toml"), Path.Combine(_temp, "pylock.web.toml"));
        File.WriteAllText(Path.Combine(_temp, "requirements.txt"), "-r pylock.web.toml\n");

        var result = LockFileReader.Read(Path.Combine(_temp, "requirements.txt"));

        Assert.True(result.IsValid, string.Join('\n', result.Problems));
        Assert.Equal(4, result.Requirements.Count);
    }

    [Theory]
    [InlineData("lock-version = \"1.0\"\n[[packages]\nname = \"six\"\n", 2, "not valid TOML")]
    [InlineData("created-by = \"x\"\n", 0, "no 'lock-version'")]
    [InlineData("lock-version = \"2.0\"\n", 0, "lock-version 2.0 is not supported")]
    [InlineData("lock-version = \"1\"\n", 0, "is not MAJOR.MINOR")]
    [InlineData("lock-version = \"1.0\"\npackages = \"six\"\n", 0, "'packages' must be an array of tables")]
    [InlineData("lock-version = \"1.0\"\n\n[[packages]]\nname = \"six\"\n", 3, "[[packages]] #1 (six): no 'version'")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"-six\"\nversion = \"1.0\"\n", 2, "missing or invalid 'name'")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"one\"\n", 2, "version 'one' is not PEP 440")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\n[packages.vcs]\ntype = \"git\"\nurl = \"https://github.com/benjaminp/six\"\ncommit-id = \"abc\"\n", 2, "a 'vcs' package cannot come from an index")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\n[packages.directory]\npath = \"./six\"\n", 2, "a 'directory' package")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n[packages.archive]\nurl = \"https://example.invalid/six.zip\"\nhashes = {sha256 = \"4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\"}\n", 2, "a 'archive' package")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n", 2, "no sdist or wheel with a sha256 hash")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n[[packages.wheels]]\nname = \"six-1.17.0-py2.py3-none-any.whl\"\nhashes = {sha256 = \"xyz\"}\n", 2, "sha256 'xyz' is not 64 hex characters")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n[[packages.wheels]]\nname = \"six-1.17.0-py2.py3-none-any.whl\"\n", 2, "no 'hashes'")]
    [InlineData("lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n[[packages.wheels]]\nhashes = {sha256 = \"4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\"}\n", 2, "no file name")]
    public void ReadPylockText_Unreadable_RefusedWithFileAndLine(string toml, int line, string expected)
    {
        var result = LockFileReader.ReadPylockText(toml, "pylock.toml");

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal("pylock.toml", error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(expected, error.Message);
        Assert.Empty(result.Requirements);
    }

    [Fact]
    public void ReadPylockText_OnlySha512_NotedAndRefusedForLackOfSha256()
    {
        var toml = $"lock-version = \"1.0\"\n[[packages]]\nname = \"six\"\nversion = \"1.17.0\"\n[[packages.wheels]]\nname = \"six-1.17.0-py2.py3-none-any.whl\"\nhashes = {{sha512 = \"{new string('a', 128)}\"}}\n";

        var result = LockFileReader.ReadPylockText(toml, "pylock.toml");

        Assert.Contains("only sha512 hashes; not pinned", Assert.Single(result.Notes).Message);
        Assert.Contains("no sdist or wheel with a sha256 hash", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void ReadPylockText_NewerMinorVersion_ReadWithNote()
    {
        var result = LockFileReader.ReadPylockText("lock-version = \"1.1\"\n", "pylock.toml");

        Assert.True(result.IsValid);
        Assert.Contains("newer than 1.0", Assert.Single(result.Notes).Message);
    }

    [Theory]
    [InlineData("pylock.toml", true)]
    [InlineData("deploy/pylock.web.toml", true)]
    [InlineData("pylock..toml", false)]
    [InlineData("pylock.a.b.toml", false)]
    [InlineData("Pylock.toml", false)]
    [InlineData("requirements.txt", false)]
    public void IsPylockFileName_FollowsPep751(string path, bool expected) =>
        Assert.Equal(expected, LockFileReader.IsPylockFileName(path));

    private static IEnumerable<string> Summaries(LockFileReadResult result) =>
        result.Requirements.Select(r => $"{r.Line} {r.Text} {r.Marker} {string.Join(',', r.Sha256)}");
}
