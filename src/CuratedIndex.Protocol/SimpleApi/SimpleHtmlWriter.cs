using System.Buffers;
using System.Globalization;
using System.Text;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>
/// Writes PyPI-shaped PEP 503 HTML as UTF-8. Every attribute value and text node is escaped
/// (<c>&amp; &lt; &gt; " '</c>), because the values come from an untrusted upstream.
/// </summary>
public static class SimpleHtmlWriter
{
    /// <summary>
    /// Writes a project detail page in Warehouse's template shape. Only a sha256 URL fragment is written (uv rejects
    /// sha1/sha224 fragments). Metadata attributes carry <c>sha256=…</c>, or <c>true</c> when no sha256 is known.
    /// The api-version and project-status rules are those of <see cref="SimpleJsonWriter.WriteProject"/>.
    /// </summary>
    public static void WriteProject(IBufferWriter<byte> output, ProjectPage page, Func<DistributionFile, string> fileUrl, Func<DistributionFile, string?> provenanceUrl)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(fileUrl);
        ArgumentNullException.ThrowIfNull(provenanceUrl);

        var apiVersion = SimpleJsonWriter.ApiVersionFor(page);
        var status = SimpleJsonWriter.StatusToWrite(page, apiVersion);
        var w = new Utf8Out(output);
        w.Raw("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"").Escaped(apiVersion).Raw("\">\n");
        if (status is not null)
        {
            w.Raw("    <meta name=\"pypi:project-status\" content=\"").Escaped(status.Status).Raw("\">\n");
            if (!string.IsNullOrEmpty(status.Reason))
            {
                w.Raw("    <meta name=\"pypi:project-status-reason\" content=\"").Escaped(status.Reason).Raw("\">\n");
            }
        }

        w.Raw("    <title>Links for ").Escaped(page.Name).Raw("</title>\n  </head>\n  <body>\n    <h1>Links for ").Escaped(page.Name).Raw("</h1>\n");
        foreach (var file in page.Files)
        {
            WriteFileLine(ref w, file, fileUrl(file), provenanceUrl(file));
        }

        w.Raw("  </body>\n</html>\n");
        if (page.LastSerial is { } serial)
        {
            w.Raw("<!--SERIAL ").Raw(serial.ToString(CultureInfo.InvariantCulture)).Raw("-->");
        }
    }

    /// <summary>
    /// Streams the root project list in Warehouse's index template shape, one
    /// <c>&lt;a href="{projectHref(normalized)}"&gt;{name}&lt;/a&gt;&lt;br /&gt;</c> per entry, flushing about every 64 KB.
    /// <paramref name="projectHref"/> receives the PEP 503 normalized name.
    /// </summary>
    public static async Task WriteIndexAsync(Stream output, IAsyncEnumerable<ProjectListEntry> projects, long? lastSerial, Func<string, string> projectHref, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(projects);
        ArgumentNullException.ThrowIfNull(projectHref);
        var buffer = new ArrayBufferWriter<byte>(SimpleJsonWriter.FlushThreshold + 4096);
        Write(buffer, w => w.Raw("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.4\">\n    <title>Simple index</title>\n  </head>\n  <body>\n"));
        await foreach (var project in projects.WithCancellation(ct).ConfigureAwait(false))
        {
            var href = projectHref(SimpleApiText.NormalizeName(project.Name));
            Write(buffer, w => w.Raw("    <a href=\"").Escaped(href).Raw("\">").Escaped(project.Name).Raw("</a><br />\n"));
            if (buffer.WrittenCount >= SimpleJsonWriter.FlushThreshold)
            {
                await output.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
                buffer.ResetWrittenCount();
            }
        }

        Write(buffer, w => w.Raw("  </body>\n</html>\n"));
        if (lastSerial is { } serial)
        {
            Write(buffer, w => w.Raw("<!--SERIAL ").Raw(serial.ToString(CultureInfo.InvariantCulture)).Raw("-->"));
        }

        await output.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    private delegate void WriteAction(Utf8Out w);

    private static void Write(IBufferWriter<byte> output, WriteAction action) => action(new Utf8Out(output));

    private static void WriteFileLine(ref Utf8Out w, DistributionFile file, string url, string? provenance)
    {
        w.Raw("    <a href=\"").Escaped(url);
        if (file.Sha256 is { } sha256)
        {
            w.Raw("#sha256=").Escaped(sha256);
        }

        w.Raw("\"");
        if (!string.IsNullOrEmpty(file.RequiresPython))
        {
            w.Attribute("data-requires-python", file.RequiresPython);
        }

        if (file.CoreMetadata is { } metadata)
        {
            var value = metadata.TryGetValue("sha256", out var digest) ? "sha256=" + digest : "true";
            w.Attribute("data-dist-info-metadata", value).Attribute("data-core-metadata", value);
        }

        if (file.GpgSig is { } gpgSig)
        {
            w.Attribute("data-gpg-sig", gpgSig ? "true" : "false");
        }

        if (file.IsYanked)
        {
            w.Attribute("data-yanked", file.YankedReason ?? string.Empty);
        }

        if (provenance is not null)
        {
            w.Attribute("data-provenance", provenance);
        }

        if (file.Size is { } size)
        {
            w.Attribute("data-size", size.ToString(CultureInfo.InvariantCulture));
        }

        if (file.UploadTime is not null)
        {
            w.Attribute("data-upload-time", file.UploadTime);
        }

        w.Raw(">").Escaped(file.Filename).Raw("</a><br />\n");
    }

    /// <summary>Appends UTF-8 to an <see cref="IBufferWriter{T}"/>, escaping on request.</summary>
    private readonly struct Utf8Out(IBufferWriter<byte> output)
    {
        public Utf8Out Raw(string text)
        {
            var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
            output.Advance(Encoding.UTF8.GetBytes(text, span));
            return this;
        }

        public Utf8Out Attribute(string name, string value) => Raw(" ").Raw(name).Raw("=\"").Escaped(value).Raw("\"");

        public Utf8Out Escaped(string text)
        {
            var start = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var entity = text[i] switch
                {
                    '&' => "&amp;",
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '"' => "&quot;",
                    '\'' => "&#x27;",
                    _ => null,
                };
                if (entity is null)
                {
                    continue;
                }

                Raw(text[start..i]);
                Raw(entity);
                start = i + 1;
            }

            return Raw(text[start..]);
        }
    }
}
