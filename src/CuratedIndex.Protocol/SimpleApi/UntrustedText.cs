namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>Renders untrusted upstream strings safely inside error messages.</summary>
internal static class UntrustedText
{
    /// <summary>A printable, one-line, bounded rendering of an untrusted string for error messages.</summary>
    public static string Printable(string? value)
    {
        if (value is null)
        {
            return "(null)";
        }

        const int limit = 80;
        var chars = new char[Math.Min(value.Length, limit)];
        for (var i = 0; i < chars.Length; i++)
        {
            var c = value[i];
            chars[i] = c < 0x20 || c == 0x7f || char.IsSurrogate(c) ? '?' : c;
        }

        var text = new string(chars);
        return value.Length > limit ? text + "..." : text;
    }
}
