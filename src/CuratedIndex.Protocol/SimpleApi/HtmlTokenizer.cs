namespace CuratedIndex.Protocol.SimpleApi;

internal enum HtmlTokenKind
{
    Text,
    StartTag,
    EndTag,
    Comment,
    Other,
}

/// <summary>One token; <see cref="Attributes"/> values are entity-decoded once; names are lower-case.</summary>
internal sealed class HtmlToken
{
    public HtmlTokenKind Kind { get; set; }

    /// <summary>Lower-case tag name for tags; raw text for text; the comment body for comments.</summary>
    public string Value { get; set; } = string.Empty;

    public List<KeyValuePair<string, string>> Attributes { get; } = [];

    /// <summary>First value of the attribute (HTML keeps the first duplicate), or null when absent.</summary>
    public string? GetAttribute(string name)
    {
        foreach (var attribute in Attributes)
        {
            if (attribute.Key == name)
            {
                return attribute.Value;
            }
        }

        return null;
    }
}

/// <summary>
/// A small, tolerant, linear-time HTML tokenizer that reads only what the Simple API needs: tags with attributes,
/// text, and comments. It works on chunks: <see cref="TryNext"/> reports "need more data" for an incomplete construct
/// unless the chunk is final, in which case an incomplete trailing construct is dropped.
/// Contents of script/style/textarea/title are skipped as raw text.
/// </summary>
internal sealed class HtmlTokenizer
{
    /// <summary>A single tag or comment longer than this is rejected (protects the streaming reader's buffer).</summary>
    public const int MaxConstructLength = 1024 * 1024;

    private string? _rawTextEnd;

    /// <summary>
    /// Reads the next token from <paramref name="chunk"/>. Returns false if more data is needed (or, when
    /// <paramref name="isFinal"/>, if nothing complete remains). <paramref name="consumed"/> is the number of chars used.
    /// </summary>
    public bool TryNext(ReadOnlySpan<char> chunk, bool isFinal, HtmlToken token, out int consumed)
    {
        consumed = 0;
        token.Attributes.Clear();
        token.Value = string.Empty;
        if (chunk.IsEmpty)
        {
            return false;
        }

        if (_rawTextEnd is not null)
        {
            return SkipRawText(chunk, isFinal, token, out consumed);
        }

        if (chunk[0] != '<')
        {
            var lt = chunk.IndexOf('<');
            var length = lt < 0 ? chunk.Length : lt;
            token.Kind = HtmlTokenKind.Text;
            token.Value = new string(chunk[..length]);
            consumed = length;
            return true;
        }

        if (chunk.Length < 2)
        {
            return isFinal && EmitText(chunk, token, out consumed);
        }

        var next = chunk[1];
        if (next == '!')
        {
            if (chunk.Length < 4 && !isFinal)
            {
                return false;
            }

            if (chunk.StartsWith("<!--"))
            {
                var end = chunk[4..].IndexOf("-->");
                if (end < 0)
                {
                    return NeedMore(chunk, isFinal, out consumed);
                }

                token.Kind = HtmlTokenKind.Comment;
                token.Value = new string(chunk.Slice(4, end));
                consumed = 4 + end + 3;
                return true;
            }

            return SkipToGreaterThan(chunk, isFinal, token, out consumed);
        }

        if (next == '?')
        {
            return SkipToGreaterThan(chunk, isFinal, token, out consumed);
        }

        if (next == '/')
        {
            if (chunk.Length < 3)
            {
                return isFinal ? EmitText(chunk, token, out consumed) : false;
            }

            if (!char.IsAsciiLetter(chunk[2]))
            {
                return SkipToGreaterThan(chunk, isFinal, token, out consumed);
            }

            var close = chunk.IndexOf('>');
            if (close < 0)
            {
                return NeedMore(chunk, isFinal, out consumed);
            }

            var nameEnd = 2;
            while (nameEnd < close && !IsSpaceOrSlash(chunk[nameEnd]))
            {
                nameEnd++;
            }

            token.Kind = HtmlTokenKind.EndTag;
            token.Value = new string(chunk[2..nameEnd]).ToLowerInvariant();
            consumed = close + 1;
            return true;
        }

        if (!char.IsAsciiLetter(next))
        {
            // A stray '<' is text.
            token.Kind = HtmlTokenKind.Text;
            token.Value = "<";
            consumed = 1;
            return true;
        }

        return TryStartTag(chunk, isFinal, token, out consumed);
    }

    private bool TryStartTag(ReadOnlySpan<char> chunk, bool isFinal, HtmlToken token, out int consumed)
    {
        consumed = 0;
        var i = 1;
        while (i < chunk.Length && !IsSpaceOrSlash(chunk[i]) && chunk[i] != '>')
        {
            i++;
        }

        if (i >= chunk.Length)
        {
            return NeedMore(chunk, isFinal, out consumed);
        }

        var name = new string(chunk[1..i]).ToLowerInvariant();
        while (true)
        {
            while (i < chunk.Length && (IsSpace(chunk[i]) || chunk[i] == '/'))
            {
                i++;
            }

            if (i >= chunk.Length)
            {
                return NeedMore(chunk, isFinal, out consumed);
            }

            if (chunk[i] == '>')
            {
                i++;
                break;
            }

            var nameStart = i;
            i++; // an attribute name may start with '='
            while (i < chunk.Length && !IsSpaceOrSlash(chunk[i]) && chunk[i] != '>' && chunk[i] != '=')
            {
                i++;
            }

            if (i >= chunk.Length)
            {
                return NeedMore(chunk, isFinal, out consumed);
            }

            var attributeName = new string(chunk[nameStart..i]).ToLowerInvariant();
            var j = i;
            while (j < chunk.Length && IsSpace(chunk[j]))
            {
                j++;
            }

            if (j >= chunk.Length)
            {
                return NeedMore(chunk, isFinal, out consumed);
            }

            var value = string.Empty;
            if (chunk[j] == '=')
            {
                j++;
                while (j < chunk.Length && IsSpace(chunk[j]))
                {
                    j++;
                }

                if (j >= chunk.Length)
                {
                    return NeedMore(chunk, isFinal, out consumed);
                }

                if (chunk[j] is '"' or '\'')
                {
                    var quote = chunk[j];
                    var closeQuote = chunk[(j + 1)..].IndexOf(quote);
                    if (closeQuote < 0)
                    {
                        return NeedMore(chunk, isFinal, out consumed);
                    }

                    value = new string(chunk.Slice(j + 1, closeQuote));
                    j += closeQuote + 2;
                }
                else
                {
                    var valueStart = j;
                    while (j < chunk.Length && !IsSpace(chunk[j]) && chunk[j] != '>')
                    {
                        j++;
                    }

                    if (j >= chunk.Length)
                    {
                        return NeedMore(chunk, isFinal, out consumed);
                    }

                    value = new string(chunk[valueStart..j]);
                }

                i = j;
            }

            token.Attributes.Add(new(attributeName, value.Contains('&', StringComparison.Ordinal) ? System.Net.WebUtility.HtmlDecode(value) : value));
        }

        token.Kind = HtmlTokenKind.StartTag;
        token.Value = name;
        consumed = i;
        if (name is "script" or "style" or "textarea" or "title" or "xmp" or "iframe" or "noembed" or "noframes" or "plaintext")
        {
            _rawTextEnd = "</" + name;
        }

        return true;
    }

    private bool SkipRawText(ReadOnlySpan<char> chunk, bool isFinal, HtmlToken token, out int consumed)
    {
        var end = chunk.IndexOf(_rawTextEnd.AsSpan(), StringComparison.OrdinalIgnoreCase);
        token.Kind = HtmlTokenKind.Text;
        if (end >= 0)
        {
            _rawTextEnd = null;
            token.Value = new string(chunk[..end]);
            consumed = end; // the end tag itself is tokenized next
            return end > 0 || TryNext(chunk, isFinal, token, out consumed);
        }

        // Keep a tail that could be the start of the end tag.
        var keep = isFinal ? 0 : Math.Min(chunk.Length, _rawTextEnd!.Length);
        consumed = chunk.Length - keep;
        token.Value = new string(chunk[..consumed]);
        return consumed > 0;
    }

    private static bool SkipToGreaterThan(ReadOnlySpan<char> chunk, bool isFinal, HtmlToken token, out int consumed)
    {
        var close = chunk.IndexOf('>');
        if (close < 0)
        {
            return NeedMore(chunk, isFinal, out consumed);
        }

        token.Kind = HtmlTokenKind.Other;
        consumed = close + 1;
        return true;
    }

    private static bool NeedMore(ReadOnlySpan<char> chunk, bool isFinal, out int consumed)
    {
        consumed = 0;
        if (!isFinal && chunk.Length > MaxConstructLength)
        {
            throw new SimplePageFormatException($"upstream HTML page has a tag or comment longer than {MaxConstructLength} characters");
        }

        // In a final chunk an incomplete construct is dropped (truncated document).
        return false;
    }

    private static bool EmitText(ReadOnlySpan<char> chunk, HtmlToken token, out int consumed)
    {
        token.Kind = HtmlTokenKind.Text;
        token.Value = new string(chunk);
        consumed = chunk.Length;
        return true;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    private static bool IsSpaceOrSlash(char c) => IsSpace(c) || c == '/';
}
