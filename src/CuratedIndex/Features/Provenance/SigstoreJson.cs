using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// A check that failed, with a reason precise enough for an incident. Thrown inside the verifier only and turned into
/// <see cref="ProvenanceVerification.Failed"/> at its entry points, so hostile input never escapes as an exception.
/// </summary>
internal sealed class ProvenanceCheckException(string message) : Exception(message);

/// <summary>
/// Reads the protobuf-JSON that Sigstore objects use (PEP 740 attestations, bundles, trusted roots): 64-bit integers
/// arrive as strings or numbers, bytes as standard padded base64. Every accessor names the field on failure.
/// </summary>
internal static class SigstoreJson
{
    /// <summary>
    /// Shallow documents only, and no duplicate keys: a document whose "publisher" (or any field) appears twice could
    /// be read one way here and another way by whoever reads the stored copy.
    /// </summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    /// <summary>A <c>version</c> field that must be the JSON number 1.</summary>
    public static bool IsVersionOne(JsonElement parent) =>
        parent.ValueKind == JsonValueKind.Object
        && parent.TryGetProperty("version", out var version)
        && version.ValueKind == JsonValueKind.Number
        && version.TryGetInt32(out var number)
        && number == 1;

    public static JsonElement Object(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is not { ValueKind: JsonValueKind.Object } found)
        {
            throw new ProvenanceCheckException($"{what}: '{name}' must be an object");
        }
        return found;
    }

    public static JsonElement? OptionalObject(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is null)
        {
            return null;
        }
        return value.Value.ValueKind == JsonValueKind.Object
            ? value
            : throw new ProvenanceCheckException($"{what}: '{name}' must be an object");
    }

    public static JsonElement Array(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is not { ValueKind: JsonValueKind.Array } found)
        {
            throw new ProvenanceCheckException($"{what}: '{name}' must be an array");
        }
        return found;
    }

    public static JsonElement? OptionalArray(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is null)
        {
            return null;
        }
        return value.Value.ValueKind == JsonValueKind.Array
            ? value
            : throw new ProvenanceCheckException($"{what}: '{name}' must be an array");
    }

    public static string String(JsonElement parent, string name, string what) =>
        OptionalString(parent, name, what) ?? throw new ProvenanceCheckException($"{what}: '{name}' is missing");

    public static string? OptionalString(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is null)
        {
            return null;
        }
        return value.Value.ValueKind == JsonValueKind.String
            ? value.Value.GetString()
            : throw new ProvenanceCheckException($"{what}: '{name}' must be a string");
    }

    public static byte[] Base64(JsonElement parent, string name, string what) =>
        DecodeBase64(String(parent, name, what), $"{what}: '{name}'");

    public static byte[] DecodeBase64(string text, string what)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new ProvenanceCheckException($"{what} is not valid base64");
        }
    }

    /// <summary>A protobuf int64: a JSON string of decimal digits (the canonical form) or a JSON integer.</summary>
    public static long Int64(JsonElement parent, string name, string what) =>
        OptionalInt64(parent, name, what) ?? throw new ProvenanceCheckException($"{what}: '{name}' is missing");

    public static long? OptionalInt64(JsonElement parent, string name, string what)
    {
        var value = Optional(parent, name, what);
        if (value is not { } found)
        {
            return null;
        }
        if (found.ValueKind == JsonValueKind.Number && found.TryGetInt64(out var number))
        {
            return number;
        }
        if (found.ValueKind == JsonValueKind.String
            && long.TryParse(found.GetString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }
        throw new ProvenanceCheckException($"{what}: '{name}' must be a 64-bit integer");
    }

    /// <summary>The member, or null when absent or JSON null (protobuf-JSON treats both as the default).</summary>
    public static JsonElement? Optional(JsonElement parent, string name, string what)
    {
        if (parent.ValueKind != JsonValueKind.Object)
        {
            throw new ProvenanceCheckException($"{what} must be an object");
        }
        return parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }
}
