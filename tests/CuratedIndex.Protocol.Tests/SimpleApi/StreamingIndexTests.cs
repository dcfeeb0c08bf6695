using System.Text;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

public class StreamingIndexTests
{
    private const int Count = 200_000;

    /// <summary>A stream that generates its content on the fly and counts the bytes handed out.</summary>
    private sealed class CountingStream(IEnumerable<string> parts) : Stream
    {
        private readonly IEnumerator<string> _parts = parts.GetEnumerator();
        private byte[] _pending = [];
        private int _offset;

        public long BytesRead { get; private set; }

        public bool Exhausted { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_offset == _pending.Length)
            {
                if (!_parts.MoveNext())
                {
                    Exhausted = true;
                    return 0;
                }

                _pending = Encoding.UTF8.GetBytes(_parts.Current);
                _offset = 0;
            }

            var n = Math.Min(count, _pending.Length - _offset);
            Array.Copy(_pending, _offset, buffer, offset, n);
            _offset += n;
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static string Name(int i) => $"Project_{i:D6}.Name";

    private static IEnumerable<string> JsonIndex(int count)
    {
        yield return "{\"meta\":{\"_last-serial\":987654321,\"api-version\":\"1.1\",\"extra\":{\"a\":[1,2,{\"b\":null}]}},\"projects\":[";
        for (var i = 0; i < count; i++)
        {
            // Small parts so tokens straddle the reader's buffer boundaries.
            yield return (i == 0 ? "" : ",") + "{\"name\":\"" + Name(i);
            yield return "\",\"_last-serial\":" + (1_000_000 + i) + ",\"ignored\":[\"x\",{\"y\":1}]}";
        }

        yield return "]}";
    }

    private static IEnumerable<string> HtmlIndex(int count)
    {
        yield return "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n";
        for (var i = 0; i < count; i++)
        {
            yield return $"    <a href=\"/simple/{i}/\">{Name(i)[..7]}";
            yield return $"{Name(i)[7..]}</a><br />\n";
        }

        yield return "  </body>\n</html>\n<!--SERIAL 987654321-->";
    }

    [Fact]
    public async Task ReadIndexAsync_Json200k_StreamsWithBoundedBuffering()
    {
        var stream = new CountingStream(JsonIndex(Count));
        long? serial = null;
        long bytesAtFirst = -1;
        var count = 0;
        await foreach (var entry in SimpleJsonReader.ReadIndexAsync(stream, CancellationToken.None, s => serial = s))
        {
            if (count == 0)
            {
                bytesAtFirst = stream.BytesRead;
                Assert.False(stream.Exhausted);
            }

            Assert.Equal(Name(count), entry.Name);
            Assert.Equal(1_000_000 + count, entry.LastSerial);
            count++;
        }

        Assert.Equal(Count, count);
        Assert.Equal(987654321, serial);
        Assert.True(stream.BytesRead > 10_000_000, stream.BytesRead.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(bytesAtFirst, 1, 256 * 1024);
    }

    [Fact]
    public async Task ReadIndexAsync_Html200k_StreamsWithBoundedBuffering()
    {
        var stream = new CountingStream(HtmlIndex(Count));
        long? serial = null;
        long bytesAtFirst = -1;
        var count = 0;
        using var reader = new StreamReader(stream, Encoding.UTF8, false, 4096);
        await foreach (var entry in SimpleHtmlReader.ReadIndexAsync(reader, CancellationToken.None, s => serial = s))
        {
            if (count == 0)
            {
                bytesAtFirst = stream.BytesRead;
            }

            Assert.Equal(Name(count), entry.Name);
            count++;
        }

        Assert.Equal(Count, count);
        Assert.Equal(987654321, serial);
        Assert.InRange(bytesAtFirst, 1, 256 * 1024);
        Assert.True(stream.BytesRead > 5_000_000);
    }

    [Theory]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[{\"name\":\"a\"},{\"name\":\"b\"", "not valid JSON")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[{\"name\":\"a\"},{\"name\":b}]}", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"}}", "no 'projects'")]
    [InlineData("{\"meta\":{\"api-version\":\"2.0\"},\"projects\":[]}", "api-version 2.0 is not supported")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[{\"_last-serial\":1}]}", "without a name")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[\"a\"]}", "not an object")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[]} x", "data after the root object")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[]} \n", null)]
    [InlineData("", "not valid JSON")]
    public async Task ReadIndexAsync_MalformedJson_Rejected(string json, string? messagePart)
    {
        if (messagePart is null)
        {
            // Control case: trailing whitespace is fine.
            Assert.Empty(await ToListAsync(SimpleJsonReader.ReadIndexAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), CancellationToken.None)));
            return;
        }

        var ex = await Assert.ThrowsAsync<SimplePageFormatException>(async () =>
        {
            await foreach (var unused in SimpleJsonReader.ReadIndexAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), CancellationToken.None))
            {
                _ = unused;
            }
        });
        Assert.Contains(messagePart, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadIndexAsync_ProxpiRootJsonAndHtml_SameNames()
    {
        var json = await ToListAsync(SimpleJsonReader.ReadIndexAsync(new MemoryStream(Fixture.Bytes("proxpi/tests/data/indexes/root/index.json")), CancellationToken.None));
        var html = await ToListAsync(SimpleHtmlReader.ReadIndexAsync(new StringReader(Fixture.Text("proxpi/tests/data/indexes/root/index.html")), CancellationToken.None));
        Assert.Equal(["proxpi", "numpy"], json.Select(e => e.Name));
        Assert.Equal(json, html);
    }

    [Fact]
    public async Task ReadIndexAsync_PyPIAndDevpiRoots_AnchorTextIsName()
    {
        var pypi = await ToListAsync(SimpleHtmlReader.ReadIndexAsync(new StringReader(Fixture.Text("pypi-simple/test/data/simple01.html")), CancellationToken.None));
        Assert.Equal("a", pypi[0].Name);
        Assert.Contains(pypi, e => e.Name == "a10-neutron-lbaas");
        var devpi = await ToListAsync(SimpleHtmlReader.ReadIndexAsync(new StringReader(Fixture.Text("pypi-simple/test/data/simple_devpi.html")), CancellationToken.None));
        Assert.Equal(18, devpi.Count);
        Assert.Equal("00smalinux", devpi[^1].Name);
    }

    [Fact]
    public async Task ReadIndexAsync_HtmlWithNonNameAnchorsAndTruncation_SkipsThem()
    {
        const string html = "<a href=x>Good_Name</a><a href=y>not a name</a><a href=z>&lt;script&gt;</a><script><a>fake</a></script><a href=w>Last</a><a href=v>cut";
        var names = await ToListAsync(SimpleHtmlReader.ReadIndexAsync(new StringReader(html), CancellationToken.None));
        Assert.Equal(["Good_Name", "Last"], names.Select(e => e.Name));
    }

    [Fact]
    public async Task WriteIndexAsync_JsonAndHtml_RoundTripThroughStreamingReaders()
    {
        var entries = Enumerable.Range(0, 50_000).Select(i => new ProjectListEntry(Name(i), i % 3 == 0 ? null : i)).ToList();

        using var json = new MemoryStream();
        await SimpleJsonWriter.WriteIndexAsync(json, ToAsync(entries), 555, n => "/simple/" + n + "/", CancellationToken.None);
        json.Position = 0;
        long? serial = null;
        var readJson = await ToListAsync(SimpleJsonReader.ReadIndexAsync(json, CancellationToken.None, s => serial = s));
        Assert.Equal(entries, readJson);
        Assert.Equal(555, serial);
        Assert.StartsWith("{\"meta\":{\"api-version\":\"1.4\",\"_last-serial\":555},\"projects\":[{\"name\":\"Project_000000.Name\"},", Encoding.UTF8.GetString(json.ToArray()), StringComparison.Ordinal);

        using var html = new MemoryStream();
        await SimpleHtmlWriter.WriteIndexAsync(html, ToAsync(entries), 555, n => "/dev/simple/" + n + "/", CancellationToken.None);
        var text = Encoding.UTF8.GetString(html.ToArray());
        Assert.Contains("    <a href=\"/dev/simple/project-000001-name/\">Project_000001.Name</a><br />\n", text, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"pypi:repository-version\" content=\"1.4\">", text, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n<!--SERIAL 555-->", text, StringComparison.Ordinal);
        var readHtml = await ToListAsync(SimpleHtmlReader.ReadIndexAsync(new StringReader(text), CancellationToken.None));
        Assert.Equal(entries.Select(e => e.Name), readHtml.Select(e => e.Name));
    }

    [Fact]
    public async Task WriteIndexAsync_Json_FlushesIncrementally()
    {
        var writes = new WriteCountingStream();
        var entries = Enumerable.Range(0, 50_000).Select(i => new ProjectListEntry(Name(i), i)).ToList();
        await SimpleJsonWriter.WriteIndexAsync(writes, ToAsync(entries), null, n => n, CancellationToken.None);
        Assert.True(writes.Writes >= writes.Length / (128 * 1024), $"{writes.Writes} writes for {writes.Length} bytes");
        Assert.True(writes.MaxWrite <= 128 * 1024, writes.MaxWrite.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var html = new WriteCountingStream();
        await SimpleHtmlWriter.WriteIndexAsync(html, ToAsync(entries), null, n => n, CancellationToken.None);
        Assert.True(html.MaxWrite <= 128 * 1024, html.MaxWrite.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(html.Length > 1_000_000);
    }

    private sealed class WriteCountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public int MaxWrite { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes++;
            MaxWrite = Math.Max(MaxWrite, count);
            base.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            MaxWrite = Math.Max(MaxWrite, buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    private static async IAsyncEnumerable<ProjectListEntry> ToAsync(IEnumerable<ProjectListEntry> entries)
    {
        foreach (var entry in entries)
        {
            yield return entry;
        }

        await Task.CompletedTask;
    }

    private static async Task<List<ProjectListEntry>> ToListAsync(IAsyncEnumerable<ProjectListEntry> source)
    {
        var list = new List<ProjectListEntry>();
        await foreach (var entry in source)
        {
            list.Add(entry);
        }

        return list;
    }
}
