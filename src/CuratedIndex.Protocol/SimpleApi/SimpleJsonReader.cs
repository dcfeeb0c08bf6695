using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>Reads PEP 691 JSON pages (project detail and the streaming root project list).</summary>
public static class SimpleJsonReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
        AllowDuplicateProperties = false,
    };

    /// <summary>Parses a project detail page (api-version 1.x). Throws <see cref="SimplePageFormatException"/>.</summary>
    public static ProjectPage ReadProject(ReadOnlySpan<byte> utf8Json, Uri pageUrl)
    {
        ArgumentNullException.ThrowIfNull(pageUrl);
        if (!pageUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The page URL must be absolute.", nameof(pageUrl));
        }

        // JsonDocument accepts invalid UTF-8 inside strings and fails only when one is read: refuse the page up front.
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new SimplePageFormatException("upstream JSON page is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            // JsonDocument.Parse has no span overload; one copy of the (bounded) page is acceptable.
            document = JsonDocument.Parse(utf8Json.ToArray(), DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new SimplePageFormatException(InvalidJsonMessage("upstream JSON page", ex));
        }

        using (document)
        {
            return ReadProject(document.RootElement, pageUrl);
        }
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> bytes from the stream and parses them as a project page.</summary>
    public static async Task<ProjectPage> ReadProjectAsync(Stream utf8Json, Uri pageUrl, int maxBytes, CancellationToken ct = default)
    {
        var bytes = await BoundedReader.ReadAllAsync(utf8Json, maxBytes, ct).ConfigureAwait(false);
        return ReadProject(bytes.Span, pageUrl);
    }

    /// <summary>
    /// Streams the root project list <c>{"meta":{...},"projects":[{"name":..,"_last-serial":n},...]}</c> without
    /// buffering the document. Entries with names that are not valid project names are skipped.
    /// <paramref name="onSerial"/> receives <c>meta._last-serial</c> when it is seen.
    /// </summary>
    public static async IAsyncEnumerable<ProjectListEntry> ReadIndexAsync(
        Stream utf8Json,
        [EnumeratorCancellation] CancellationToken ct,
        Action<long>? onSerial = null)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        var parser = new IndexParser(onSerial);
        var buffer = ArrayPool<byte>.Shared.Rent(IndexParser.InitialBufferSize);
        try
        {
            var start = 0;
            var end = 0;
            var isFinal = false;
            while (true)
            {
                while (parser.TryReadEntry(buffer.AsSpan(start, end - start), isFinal, out var consumed, out var entry))
                {
                    start += consumed;
                    if (entry is not null)
                    {
                        yield return entry;
                    }
                }

                // TryReadEntry returned false: it needs more data (or is done).
                start += parser.LastConsumed;
                if (parser.IsDone)
                {
                    // Only whitespace may follow the root object; read on to the end to check that.
                    if (buffer.AsSpan(start, end - start).IndexOfAnyExcept(" \t\r\n"u8) >= 0)
                    {
                        throw new SimplePageFormatException("upstream JSON index has data after the root object");
                    }

                    if (isFinal)
                    {
                        yield break;
                    }

                    start = end;
                }
                else if (isFinal)
                {
                    throw new SimplePageFormatException("upstream JSON index is truncated");
                }

                // Compact, growing only when a single token does not fit.
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    if (buffer.Length >= IndexParser.MaxTokenBytes)
                    {
                        throw new SimplePageFormatException($"upstream JSON index has a token longer than {IndexParser.MaxTokenBytes} bytes");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, end);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await utf8Json.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    isFinal = true;
                }

                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static string InvalidJsonMessage(string what, JsonException ex)
    {
        var line = ex.LineNumber ?? 0;
        var position = ex.BytePositionInLine ?? 0;
        return line == 0
            ? $"{what} is not valid JSON at byte {position}"
            : $"{what} is not valid JSON at line {line + 1}, byte {position}";
    }

    private static ProjectPage ReadProject(JsonElement root, Uri pageUrl)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Fail("upstream JSON page is not a JSON object");
        }

        if (!root.TryGetProperty("meta", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            throw Fail("upstream JSON page has no 'meta' object");
        }

        var apiVersion = ReadApiVersion(meta);
        long? lastSerial = null;
        if (meta.TryGetProperty("_last-serial", out var serial) && serial.ValueKind != JsonValueKind.Null)
        {
            if (serial.ValueKind != JsonValueKind.Number || !serial.TryGetInt64(out var value))
            {
                throw Fail("meta._last-serial is not an integer");
            }

            lastSerial = value;
        }

        if (!root.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
            || string.IsNullOrWhiteSpace(nameElement.GetString()))
        {
            throw Fail("upstream JSON page has no 'name' string");
        }

        var name = nameElement.GetString()!;
        if (!SimpleApiText.IsValidProjectName(name))
        {
            throw Fail($"project name '{UntrustedText.Printable(name)}' is not a valid name");
        }

        var versions = new List<string>();
        if (root.TryGetProperty("versions", out var versionsElement) && versionsElement.ValueKind != JsonValueKind.Null)
        {
            if (versionsElement.ValueKind != JsonValueKind.Array)
            {
                throw Fail("'versions' is not an array");
            }

            foreach (var version in versionsElement.EnumerateArray())
            {
                if (version.ValueKind != JsonValueKind.String)
                {
                    throw Fail("'versions' contains a non-string");
                }

                versions.Add(version.GetString()!);
            }
        }

        if (!root.TryGetProperty("files", out var filesElement) || filesElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail("upstream JSON page has no 'files' array");
        }

        var files = new List<DistributionFile>(filesElement.GetArrayLength());
        var dropped = new List<string>();
        var index = 0;
        foreach (var file in filesElement.EnumerateArray())
        {
            if (ReadFile(file, index++, pageUrl, out var drop) is { } read)
            {
                files.Add(read);
            }
            else
            {
                dropped.Add(drop!);
            }
        }

        // PEP 792 puts project-status at the top level; the spec's own example puts it in meta.
        var status = ReadStatus(root) ?? ReadStatus(meta);

        return new ProjectPage
        {
            Name = SimpleApiText.NormalizeName(name),
            ApiVersion = apiVersion,
            LastSerial = lastSerial,
            Versions = versions,
            Files = files,
            Status = status,
            DroppedFiles = dropped,
        };
    }

    private static string ReadApiVersion(JsonElement meta)
    {
        if (!meta.TryGetProperty("api-version", out var element) || element.ValueKind != JsonValueKind.String)
        {
            throw Fail("meta.api-version is missing or not a string");
        }

        var text = element.GetString()!;
        if (!SimpleApiText.TryParseApiVersion(text, out var major, out _))
        {
            throw Fail($"api-version '{UntrustedText.Printable(text)}' is not a version");
        }

        if (major != 1)
        {
            throw Fail($"api-version {UntrustedText.Printable(text)} is not supported");
        }

        return text;
    }

    private static ProjectStatus? ReadStatus(JsonElement container)
    {
        if (!container.TryGetProperty("project-status", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Fail("'project-status' is not an object");
        }

        string? status = null;
        if (element.TryGetProperty("status", out var statusElement))
        {
            if (statusElement.ValueKind != JsonValueKind.String)
            {
                throw Fail("project-status.status is not a string");
            }

            status = statusElement.GetString();
        }

        string? reason = null;
        if (element.TryGetProperty("reason", out var reasonElement) && reasonElement.ValueKind != JsonValueKind.Null)
        {
            if (reasonElement.ValueKind != JsonValueKind.String)
            {
                throw Fail("project-status.reason is not a string");
            }

            reason = reasonElement.GetString();
        }

        return string.IsNullOrEmpty(status) ? null : new ProjectStatus(status, string.IsNullOrEmpty(reason) ? null : reason);
    }

    /// <summary>The file, or null with <paramref name="dropped"/> saying why it is left out; a malformed entry refuses the page.</summary>
    private static DistributionFile? ReadFile(JsonElement file, int index, Uri pageUrl, out string? dropped)
    {
        dropped = null;
        if (file.ValueKind != JsonValueKind.Object)
        {
            throw Fail($"file {index} is not an object");
        }

        if (!file.TryGetProperty("filename", out var filenameElement) || filenameElement.ValueKind != JsonValueKind.String
            || filenameElement.GetString()!.Length == 0)
        {
            throw Fail($"file {index} has no filename");
        }

        var filename = filenameElement.GetString()!;
        var shown = UntrustedText.Printable(filename);
        if (!DistributionFilename.IsSafe(filename))
        {
            throw Fail($"file '{shown}' has an unsafe filename");
        }

        if (!file.TryGetProperty("url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
        {
            throw Fail($"file '{shown}' has no url");
        }

        if (!SimpleApiText.TryResolveHttpUrl(pageUrl, urlElement.GetString()!.Trim(), out var url))
        {
            throw Fail($"file '{shown}' has a url that is not http(s)");
        }

        if (!string.Equals(SimpleApiText.LastSegment(url), filename, StringComparison.Ordinal))
        {
            throw Fail($"file '{shown}' does not match the last segment of its url");
        }

        if (!file.TryGetProperty("hashes", out var hashesElement))
        {
            throw Fail($"file '{shown}' has no hashes");
        }

        var hashes = ReadHashes(hashesElement, shown, "hashes", out var digestProblem);
        if (digestProblem is not null)
        {
            // Fail closed: a file whose digest cannot be right is not offered (nothing could verify its bytes).
            dropped = $"file '{shown}': {digestProblem}";
            return null;
        }
        var requiresPython = ReadOptionalString(file, "requires-python", shown);
        if (string.IsNullOrWhiteSpace(requiresPython))
        {
            requiresPython = null;
        }

        var coreMetadata = ReadCoreMetadata(file, shown);

        bool? gpgSig = null;
        if (file.TryGetProperty("gpg-sig", out var gpgElement) && gpgElement.ValueKind != JsonValueKind.Null)
        {
            gpgSig = gpgElement.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Fail($"file '{shown}' has a non-boolean gpg-sig"),
            };
        }

        var isYanked = false;
        string? yankedReason = null;
        if (file.TryGetProperty("yanked", out var yankedElement))
        {
            switch (yankedElement.ValueKind)
            {
                case JsonValueKind.True:
                    isYanked = true;
                    break;
                case JsonValueKind.False:
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.String:
                    // pip and uv treat any string (even "") as yanked.
                    isYanked = true;
                    yankedReason = yankedElement.GetString();
                    if (string.IsNullOrEmpty(yankedReason))
                    {
                        yankedReason = null;
                    }

                    break;
                default:
                    throw Fail($"file '{shown}' has an invalid yanked value");
            }
        }

        long? size = null;
        if (file.TryGetProperty("size", out var sizeElement) && sizeElement.ValueKind != JsonValueKind.Null)
        {
            if (sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var value) || value < 0)
            {
                throw Fail($"file '{shown}' has an invalid size");
            }

            size = value;
        }

        var uploadTime = ReadOptionalString(file, "upload-time", shown);
        if (string.IsNullOrEmpty(uploadTime))
        {
            uploadTime = null;
        }

        var provenance = SimpleApiText.AbsoluteHttpUrlOrNull(ReadOptionalString(file, "provenance", shown));

        return new DistributionFile
        {
            Filename = filename,
            Url = SimpleApiText.WithoutFragment(url),
            Hashes = hashes,
            RequiresPython = requiresPython,
            CoreMetadata = coreMetadata,
            GpgSig = gpgSig,
            IsYanked = isYanked,
            YankedReason = yankedReason,
            Size = size,
            UploadTime = uploadTime,
            Provenance = provenance,
        };
    }

    /// <summary>The digests by name; a digest that cannot be right (not hex, wrong length) is reported in <paramref name="problem"/>.</summary>
    private static Dictionary<string, string> ReadHashes(JsonElement element, string shown, string key, out string? problem)
    {
        problem = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Fail($"file '{shown}' has {key} that are not an object");
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name.ToLowerInvariant();
            if (!SimpleApiText.IsHashName(name) || property.Value.ValueKind != JsonValueKind.String)
            {
                throw Fail($"file '{shown}' has an invalid {key} entry");
            }

            var digest = property.Value.GetString()!;
            if (SimpleApiText.DigestProblem(name, digest) is { } bad)
            {
                problem ??= $"{key}: {bad}";
                continue;
            }

            hashes[name] = digest.ToLowerInvariant();
        }

        return hashes;
    }

    private static Dictionary<string, string>? ReadCoreMetadata(JsonElement file, string shown)
    {
        foreach (var key in (ReadOnlySpan<string>)["core-metadata", "dist-info-metadata", "data-dist-info-metadata"])
        {
            if (!file.TryGetProperty(key, out var element))
            {
                continue;
            }

            return element.ValueKind switch
            {
                JsonValueKind.False or JsonValueKind.Null => null,
                JsonValueKind.True => new Dictionary<string, string>(StringComparer.Ordinal),
                // Metadata whose digest cannot be right is treated as not offered (PROTOCOL.md F2: never claim it otherwise).
                JsonValueKind.Object => ReadHashes(element, shown, key, out var problem) is var hashes && problem is null ? hashes : null,
                _ => throw Fail($"file '{shown}' has an invalid {key} value"),
            };
        }

        return null;
    }

    private static string? ReadOptionalString(JsonElement file, string key, string shown)
    {
        if (!file.TryGetProperty(key, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            throw Fail($"file '{shown}' has a non-string {key}");
        }

        return element.GetString();
    }

    private static SimplePageFormatException Fail(string message) => new(message);

    /// <summary>
    /// Resumable token-level state machine over <see cref="Utf8JsonReader"/> for the root project list.
    /// It only ever holds the bytes of the current chunk; state survives refills via <see cref="JsonReaderState"/>.
    /// </summary>
    private sealed class IndexParser(Action<long>? onSerial)
    {
        public const int InitialBufferSize = 64 * 1024;
        public const int MaxTokenBytes = 4 * 1024 * 1024;

        private JsonReaderState _readerState = new(new JsonReaderOptions { MaxDepth = 64 });
        private State _state = State.Start;
        private State _skipReturn;
        private int _skipDepth;
        private bool _sawProjects;
        private string? _name;
        private long? _serial;
        private long _offset;

        private enum State
        {
            Start,
            TopLevel,
            MetaStart,
            InMeta,
            MetaApiVersion,
            MetaSerial,
            ProjectsStart,
            InProjects,
            InProject,
            ProjectName,
            ProjectSerial,
            SkipValue,
            SkipNested,
            Done,
        }

        public bool IsDone => _state == State.Done;

        /// <summary>Bytes consumed by the last call that returned false.</summary>
        public int LastConsumed { get; private set; }

        /// <summary>
        /// Advances through complete tokens of <paramref name="data"/>. Returns true with an entry (or null when an
        /// invalid name was skipped) and the bytes consumed; returns false when more data is needed or parsing is done.
        /// </summary>
        public bool TryReadEntry(ReadOnlySpan<byte> data, bool isFinal, out int consumed, out ProjectListEntry? entry)
        {
            entry = null;
            var reader = new Utf8JsonReader(data, isFinal, _readerState);
            try
            {
                while (_state != State.Done && reader.Read())
                {
                    if (Step(ref reader, out entry, out var emitted) && emitted)
                    {
                        _readerState = reader.CurrentState;
                        consumed = (int)reader.BytesConsumed;
                        _offset += consumed;
                        return true;
                    }
                }

            }
            catch (JsonException)
            {
                throw Fail($"upstream JSON index is not valid JSON near byte {_offset + reader.BytesConsumed}");
            }

            _readerState = reader.CurrentState;
            LastConsumed = (int)reader.BytesConsumed;
            _offset += LastConsumed;
            consumed = 0;
            return false;
        }

        // Returns true when it handled the token; emitted says whether an entry was completed.
        private bool Step(ref Utf8JsonReader reader, out ProjectListEntry? entry, out bool emitted)
        {
            entry = null;
            emitted = false;
            var token = reader.TokenType;
            switch (_state)
            {
                case State.Start:
                    _state = token == JsonTokenType.StartObject ? State.TopLevel : throw Fail("upstream JSON index is not a JSON object");
                    break;
                case State.TopLevel:
                    if (token == JsonTokenType.EndObject)
                    {
                        _state = _sawProjects ? State.Done : throw Fail("upstream JSON index has no 'projects' array");
                    }
                    else if (reader.ValueTextEquals("meta"u8))
                    {
                        _state = State.MetaStart;
                    }
                    else if (reader.ValueTextEquals("projects"u8))
                    {
                        _state = State.ProjectsStart;
                    }
                    else
                    {
                        BeginSkip(State.TopLevel);
                    }

                    break;
                case State.MetaStart:
                    _state = token == JsonTokenType.StartObject ? State.InMeta : throw Fail("upstream JSON index 'meta' is not an object");
                    break;
                case State.InMeta:
                    if (token == JsonTokenType.EndObject)
                    {
                        _state = State.TopLevel;
                    }
                    else if (reader.ValueTextEquals("api-version"u8))
                    {
                        _state = State.MetaApiVersion;
                    }
                    else if (reader.ValueTextEquals("_last-serial"u8))
                    {
                        _state = State.MetaSerial;
                    }
                    else
                    {
                        BeginSkip(State.InMeta);
                    }

                    break;
                case State.MetaApiVersion:
                    {
                        var text = token == JsonTokenType.String ? reader.GetString() : null;
                        if (!SimpleApiText.TryParseApiVersion(text, out var major, out _))
                        {
                            throw Fail("upstream JSON index has an invalid api-version");
                        }

                        if (major != 1)
                        {
                            throw Fail($"api-version {UntrustedText.Printable(text)} is not supported");
                        }

                        _state = State.InMeta;
                        break;
                    }

                case State.MetaSerial:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out var metaSerial))
                    {
                        onSerial?.Invoke(metaSerial);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        throw Fail("meta._last-serial is not an integer");
                    }

                    _state = State.InMeta;
                    break;
                case State.ProjectsStart:
                    _sawProjects = true;
                    _state = token == JsonTokenType.StartArray ? State.InProjects : throw Fail("upstream JSON index 'projects' is not an array");
                    break;
                case State.InProjects:
                    if (token == JsonTokenType.EndArray)
                    {
                        _state = State.TopLevel;
                    }
                    else if (token == JsonTokenType.StartObject)
                    {
                        _name = null;
                        _serial = null;
                        _state = State.InProject;
                    }
                    else
                    {
                        throw Fail("upstream JSON index has a project entry that is not an object");
                    }

                    break;
                case State.InProject:
                    if (token == JsonTokenType.EndObject)
                    {
                        if (_name is null)
                        {
                            throw Fail("upstream JSON index has a project without a name");
                        }

                        _state = State.InProjects;
                        emitted = true;
                        entry = SimpleApiText.IsValidProjectName(_name) ? new ProjectListEntry(_name, _serial) : null;
                    }
                    else if (reader.ValueTextEquals("name"u8))
                    {
                        _state = State.ProjectName;
                    }
                    else if (reader.ValueTextEquals("_last-serial"u8))
                    {
                        _state = State.ProjectSerial;
                    }
                    else
                    {
                        BeginSkip(State.InProject);
                    }

                    break;
                case State.ProjectName:
                    _name = token == JsonTokenType.String ? reader.GetString() : throw Fail("upstream JSON index has a non-string project name");
                    _state = State.InProject;
                    break;
                case State.ProjectSerial:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out var serial))
                    {
                        _serial = serial;
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        throw Fail("upstream JSON index has a non-integer _last-serial");
                    }

                    _state = State.InProject;
                    break;
                case State.SkipValue:
                    if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        _skipDepth = 1;
                        _state = State.SkipNested;
                    }
                    else
                    {
                        _state = _skipReturn;
                    }

                    break;
                case State.SkipNested:
                    if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        _skipDepth++;
                    }
                    else if (token is JsonTokenType.EndObject or JsonTokenType.EndArray && --_skipDepth == 0)
                    {
                        _state = _skipReturn;
                    }

                    break;
                case State.Done:
                    break;
            }

            return true;
        }

        private void BeginSkip(State returnTo)
        {
            _skipReturn = returnTo;
            _state = State.SkipValue;
        }
    }
}

/// <summary>Reads a whole stream into memory, failing beyond a byte limit.</summary>
internal static class BoundedReader
{
    public static async Task<ReadOnlyMemory<byte>> ReadAllAsync(Stream stream, int maxBytes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxBytes)
                {
                    throw new SimplePageFormatException(string.Create(CultureInfo.InvariantCulture, $"upstream page exceeds {maxBytes} bytes"));
                }

                Array.Resize(ref buffer, (int)Math.Min((long)maxBytes + 1, buffer.Length * 2L));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.AsMemory(0, length);
            }

            length += read;
            if (length > maxBytes)
            {
                throw new SimplePageFormatException(string.Create(CultureInfo.InvariantCulture, $"upstream page exceeds {maxBytes} bytes"));
            }
        }
    }
}
