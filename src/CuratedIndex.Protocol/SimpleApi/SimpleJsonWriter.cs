using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>Writes PyPI-shaped PEP 691 JSON (PROTOCOL.md E1–E6).</summary>
public static class SimpleJsonWriter
{
    /// <summary>Flush threshold for the streaming index writer.</summary>
    internal const int FlushThreshold = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    /// <summary>
    /// Writes a project detail page. <paramref name="fileUrl"/> gives each file's URL (the proxy's own),
    /// <paramref name="provenanceUrl"/> its provenance URL (null → <c>"provenance": null</c>).
    /// api-version rule (<see cref="ApiVersionFor"/>): "1.4" when every file has a size, and then project-status is
    /// always written (default active); otherwise "1.0", and project-status is written only when it is not active.
    /// Keys beyond the declared version (upload-time, provenance, versions) are still written when known: they are
    /// optional and clients ignore what they do not understand. <c>dist-info-metadata</c> is never written.
    /// </summary>
    public static void WriteProject(IBufferWriter<byte> output, ProjectPage page, Func<DistributionFile, string> fileUrl, Func<DistributionFile, string?> provenanceUrl)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(fileUrl);
        ArgumentNullException.ThrowIfNull(provenanceUrl);

        var apiVersion = ApiVersionFor(page);
        var status = StatusToWrite(page, apiVersion);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartObject("meta");
        writer.WriteString("api-version", apiVersion);
        if (page.LastSerial is { } serial)
        {
            writer.WriteNumber("_last-serial", serial);
        }

        writer.WriteEndObject();
        writer.WriteString("name", page.Name);
        writer.WriteStartArray("versions");
        foreach (var version in page.Versions)
        {
            writer.WriteStringValue(version);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("files");
        foreach (var file in page.Files)
        {
            WriteFile(writer, file, fileUrl(file), provenanceUrl(file));
        }

        writer.WriteEndArray();
        if (status is not null)
        {
            writer.WriteStartObject("project-status");
            writer.WriteString("status", status.Status);
            if (!string.IsNullOrEmpty(status.Reason))
            {
                writer.WriteString("reason", status.Reason);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>
    /// Streams the root project list <c>{"meta":{"api-version":"1.4","_last-serial":n},"projects":[...]}</c>,
    /// flushing about every 64 KB. <paramref name="projectHref"/> is unused in JSON (PEP 691 has no href); it is
    /// accepted so both writers share a signature.
    /// </summary>
    public static async Task WriteIndexAsync(Stream output, IAsyncEnumerable<ProjectListEntry> projects, long? lastSerial, Func<string, string> projectHref, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(projects);
        await using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartObject("meta");
        writer.WriteString("api-version", "1.4");
        if (lastSerial is { } serial)
        {
            writer.WriteNumber("_last-serial", serial);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("projects");
        await foreach (var project in projects.WithCancellation(ct).ConfigureAwait(false))
        {
            writer.WriteStartObject();
            writer.WriteString("name", project.Name);
            if (project.LastSerial is { } projectSerial)
            {
                writer.WriteNumber("_last-serial", projectSerial);
            }

            writer.WriteEndObject();
            if (writer.BytesPending >= FlushThreshold)
            {
                await writer.FlushAsync(ct).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>"1.4" when every file has a size (PEP 700 requires size from 1.1 on), else "1.0".</summary>
    internal static string ApiVersionFor(ProjectPage page)
    {
        foreach (var file in page.Files)
        {
            if (file.Size is null)
            {
                return "1.0";
            }
        }

        return "1.4";
    }

    /// <summary>The status to emit for the chosen api-version, or null to omit it.</summary>
    internal static ProjectStatus? StatusToWrite(ProjectPage page, string apiVersion)
    {
        if (apiVersion == "1.4")
        {
            return page.Status ?? new ProjectStatus(ProjectStatus.Active, null);
        }

        return page.Status is { } status && !string.Equals(status.Status, ProjectStatus.Active, StringComparison.Ordinal) ? status : null;
    }

    private static void WriteFile(Utf8JsonWriter writer, DistributionFile file, string url, string? provenance)
    {
        writer.WriteStartObject();
        writer.WriteString("filename", file.Filename);
        writer.WriteString("url", url);
        writer.WritePropertyName("hashes");
        WriteHashes(writer, file.Hashes);
        if (file.RequiresPython is null)
        {
            writer.WriteNull("requires-python");
        }
        else
        {
            writer.WriteString("requires-python", file.RequiresPython);
        }

        if (file.Size is { } size)
        {
            writer.WriteNumber("size", size);
        }

        if (file.UploadTime is not null)
        {
            writer.WriteString("upload-time", file.UploadTime);
        }

        if (!file.IsYanked)
        {
            writer.WriteBoolean("yanked", false);
        }
        else if (string.IsNullOrEmpty(file.YankedReason))
        {
            writer.WriteBoolean("yanked", true);
        }
        else
        {
            writer.WriteString("yanked", file.YankedReason);
        }

        writer.WritePropertyName("core-metadata");
        WriteMetadata(writer, file.CoreMetadata);
        writer.WritePropertyName("data-dist-info-metadata");
        WriteMetadata(writer, file.CoreMetadata);
        if (file.GpgSig is { } gpgSig)
        {
            writer.WriteBoolean("gpg-sig", gpgSig);
        }

        if (provenance is null)
        {
            writer.WriteNull("provenance");
        }
        else
        {
            writer.WriteString("provenance", provenance);
        }

        writer.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter writer, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            writer.WriteBooleanValue(false);
        }
        else if (metadata.Count == 0)
        {
            writer.WriteBooleanValue(true);
        }
        else
        {
            WriteHashes(writer, metadata);
        }
    }

    private static void WriteHashes(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> hashes)
    {
        writer.WriteStartObject();
        foreach (var name in hashes.Keys.Order(StringComparer.Ordinal))
        {
            writer.WriteString(name, hashes[name]);
        }

        writer.WriteEndObject();
    }
}
