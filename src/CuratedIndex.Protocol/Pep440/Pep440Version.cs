using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace CuratedIndex.Protocol;

/// <summary>
/// A PEP 440 version, accepting exactly what packaging's <c>Version</c> accepts and comparing like its
/// sort key: trailing release zeros are ignored, dev &lt; pre &lt; release &lt; post, local versions sort above
/// their public version.
/// </summary>
public sealed class Pep440Version : IComparable<Pep440Version>, IEquatable<Pep440Version>
{
    /// <summary>Longer input is rejected without parsing.</summary>
    public const int MaxInputLength = 256;

    // Longest spelling first so that "alpha" is not read as "a" followed by garbage.
    private static readonly string[] PreLabels = ["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"];
    private static readonly string[] PostLabels = ["post", "rev", "r"];
    private static readonly string[] DevLabels = ["dev"];

    private readonly long[] _release;
    // Local segments: numeric ones hold their digits without leading zeros so that any length compares safely.
    private readonly string[]? _localSegments;

    private Pep440Version(int epoch, long[] release, string? preLabel, long? pre, long? post, long? dev, string[]? localSegments)
    {
        Epoch = epoch;
        _release = release;
        Release = new ReadOnlyCollection<long>(release);
        PreLabel = preLabel;
        Pre = pre;
        Post = post;
        Dev = dev;
        _localSegments = localSegments;
        Local = localSegments is null ? null : string.Join('.', localSegments);
    }

    public int Epoch { get; }

    /// <summary>The release segments as written (trailing zeros kept; they are ignored only when comparing).</summary>
    public IReadOnlyList<long> Release { get; }

    /// <summary>"a", "b" or "rc" when this is a pre-release, else null.</summary>
    public string? PreLabel { get; }

    public long? Pre { get; }

    public long? Post { get; }

    public long? Dev { get; }

    /// <summary>The normalized local label (lower case, <c>.</c> separated, numeric parts without leading zeros), or null.</summary>
    public string? Local { get; }

    /// <summary>True for pre-releases and dev releases.</summary>
    public bool IsPrerelease => Pre is not null || Dev is not null;

    public bool IsDevRelease => Dev is not null;

    public bool IsPostRelease => Post is not null;

    /// <summary>This version without its local label.</summary>
    public Pep440Version Public => _localSegments is null
        ? this
        : new Pep440Version(Epoch, _release, PreLabel, Pre, Post, Dev, null);

    /// <summary>Epoch and release only.</summary>
    public Pep440Version BaseVersion => PreLabel is null && Post is null && Dev is null && _localSegments is null
        ? this
        : new Pep440Version(Epoch, _release, null, null, null, null, null);

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> when it is not a PEP 440 version.</summary>
    public static Pep440Version Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"Invalid PEP 440 version: '{text}'.");

    /// <summary>Parses a PEP 440 version (case-insensitive, surrounding whitespace allowed); never throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Pep440Version? version)
    {
        version = null;
        if (text is null || text.Length > MaxInputLength)
        {
            return false;
        }

        var reader = new Reader(text.AsSpan().Trim());
        return reader.TryReadVersion(out version);
    }

    public int CompareTo(Pep440Version? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = Epoch.CompareTo(other.Epoch);
        if (c != 0)
        {
            return c;
        }

        c = CompareRelease(_release, other._release);
        if (c != 0)
        {
            return c;
        }

        c = PreRank().CompareTo(other.PreRank());
        if (c != 0)
        {
            return c;
        }

        if (PreLabel is not null && other.PreLabel is not null)
        {
            c = string.CompareOrdinal(PreLabel, other.PreLabel);
            if (c != 0)
            {
                return c;
            }

            c = Pre!.Value.CompareTo(other.Pre!.Value);
            if (c != 0)
            {
                return c;
            }
        }

        // Missing post sorts below any post; missing dev sorts above any dev.
        c = (Post ?? -1).CompareTo(other.Post ?? -1);
        if (c != 0)
        {
            return c;
        }

        c = (Dev ?? long.MaxValue).CompareTo(other.Dev ?? long.MaxValue);
        if (c == 0 && Dev is null != other.Dev is null)
        {
            c = Dev is null ? 1 : -1;
        }

        if (c != 0)
        {
            return c;
        }

        return CompareLocal(_localSegments, other._localSegments);
    }

    public bool Equals(Pep440Version? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is Pep440Version other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Epoch);
        var significant = SignificantLength(_release);
        for (var i = 0; i < significant; i++)
        {
            hash.Add(_release[i]);
        }

        hash.Add(PreLabel);
        hash.Add(Pre);
        hash.Add(Post);
        hash.Add(Dev);
        hash.Add(Local);
        return hash.ToHashCode();
    }

    /// <summary>The canonical normalized form, e.g. <c>1!2.0rc1.post1.dev3+ubuntu.1</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Epoch != 0)
        {
            sb.Append(Epoch.ToString(CultureInfo.InvariantCulture)).Append('!');
        }

        for (var i = 0; i < _release.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('.');
            }

            sb.Append(_release[i].ToString(CultureInfo.InvariantCulture));
        }

        if (PreLabel is not null)
        {
            sb.Append(PreLabel).Append(Pre!.Value.ToString(CultureInfo.InvariantCulture));
        }

        if (Post is not null)
        {
            sb.Append(".post").Append(Post.Value.ToString(CultureInfo.InvariantCulture));
        }

        if (Dev is not null)
        {
            sb.Append(".dev").Append(Dev.Value.ToString(CultureInfo.InvariantCulture));
        }

        if (Local is not null)
        {
            sb.Append('+').Append(Local);
        }

        return sb.ToString();
    }

    public static bool operator ==(Pep440Version? left, Pep440Version? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(Pep440Version? left, Pep440Version? right) => !(left == right);

    public static bool operator <(Pep440Version? left, Pep440Version? right) => Compare(left, right) < 0;

    public static bool operator <=(Pep440Version? left, Pep440Version? right) => Compare(left, right) <= 0;

    public static bool operator >(Pep440Version? left, Pep440Version? right) => Compare(left, right) > 0;

    public static bool operator >=(Pep440Version? left, Pep440Version? right) => Compare(left, right) >= 0;

    private static int Compare(Pep440Version? left, Pep440Version? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);

    // 0: dev release without pre/post (sorts before every pre-release), 1: pre-release, 2: anything else.
    private int PreRank() => PreLabel is not null ? 1 : (Post is null && Dev is not null ? 0 : 2);

    private static int SignificantLength(long[] release)
    {
        var length = release.Length;
        while (length > 0 && release[length - 1] == 0)
        {
            length--;
        }

        return length;
    }

    private static int CompareRelease(long[] left, long[] right)
    {
        var length = Math.Max(left.Length, right.Length);
        for (var i = 0; i < length; i++)
        {
            var c = (i < left.Length ? left[i] : 0).CompareTo(i < right.Length ? right[i] : 0);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private static int CompareLocal(string[]? left, string[]? right)
    {
        if (left is null || right is null)
        {
            return left is null ? (right is null ? 0 : -1) : 1;
        }

        var length = Math.Min(left.Length, right.Length);
        for (var i = 0; i < length; i++)
        {
            var c = CompareLocalSegment(left[i], right[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return left.Length.CompareTo(right.Length);
    }

    // Numeric segments sort above alphanumeric ones; numbers compare by value, strings ordinally.
    private static int CompareLocalSegment(string left, string right)
    {
        var leftNumeric = IsAllDigits(left);
        var rightNumeric = IsAllDigits(right);
        if (leftNumeric != rightNumeric)
        {
            return leftNumeric ? 1 : -1;
        }

        if (leftNumeric && left.Length != right.Length)
        {
            return left.Length.CompareTo(right.Length);
        }

        return string.CompareOrdinal(left, right);
    }

    private static bool IsAllDigits(string s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsSeparator(char c) => c is '.' or '-' or '_';

    private ref struct Reader(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _pos;

        public bool TryReadVersion([NotNullWhen(true)] out Pep440Version? version)
        {
            version = null;
            if (_pos < _text.Length && _text[_pos] is 'v' or 'V')
            {
                _pos++;
            }

            if (!TryReadNumber(out var first))
            {
                return false;
            }

            var epoch = 0;
            if (Peek() == '!')
            {
                if (first > int.MaxValue)
                {
                    return false;
                }

                epoch = (int)first;
                _pos++;
                if (!TryReadNumber(out first))
                {
                    return false;
                }
            }

            var release = new List<long>(4) { first };
            while (Peek() == '.' && char.IsAsciiDigit(Peek(1)))
            {
                _pos++;
                if (!TryReadNumber(out var segment))
                {
                    return false;
                }

                release.Add(segment);
            }

            if (!TryReadPre(out var preLabel, out var pre)
                || !TryReadPost(out var post)
                || !TryReadDev(out var dev)
                || !TryReadLocal(out var local)
                || _pos != _text.Length)
            {
                return false;
            }

            version = new Pep440Version(epoch, [.. release], preLabel, pre, post, dev, local);
            return true;
        }

        private readonly char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

        // Reads one or more ASCII digits; fails on none or on a value beyond long.
        private bool TryReadNumber(out long value)
        {
            value = 0;
            var start = _pos;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                var digit = _text[_pos] - '0';
                if (value > (long.MaxValue - digit) / 10)
                {
                    return false;
                }

                value = (value * 10) + digit;
                _pos++;
            }

            return _pos > start;
        }

        // Matches one of the labels (longest first) after an optional separator; leaves the position unchanged on a miss.
        private bool TryReadLabel(string[] labels, out string matched)
        {
            var start = _pos;
            if (IsSeparator(Peek()))
            {
                start++;
            }

            foreach (var label in labels)
            {
                if (start + label.Length <= _text.Length
                    && _text.Slice(start, label.Length).Equals(label, StringComparison.OrdinalIgnoreCase))
                {
                    _pos = start + label.Length;
                    matched = label;
                    return true;
                }
            }

            matched = "";
            return false;
        }

        // After a label: an optional separator, then optional digits ("1.0a." is 1.0a0). Taking the separator
        // even without digits is safe because every later part may start without one.
        private bool TryReadLabelNumber(out long value)
        {
            value = 0;
            if (IsSeparator(Peek()))
            {
                _pos++;
            }

            return !char.IsAsciiDigit(Peek()) || TryReadNumber(out value);
        }

        private bool TryReadPre(out string? label, out long? number)
        {
            label = null;
            number = null;
            if (!TryReadLabel(PreLabels, out var raw))
            {
                return true;
            }

            label = raw switch
            {
                "alpha" or "a" => "a",
                "beta" or "b" => "b",
                _ => "rc",
            };
            if (!TryReadLabelNumber(out var n))
            {
                return false;
            }

            number = n;
            return true;
        }

        private bool TryReadPost(out long? number)
        {
            number = null;
            if (Peek() == '-' && char.IsAsciiDigit(Peek(1)))
            {
                _pos++;
                if (!TryReadNumber(out var implicitPost))
                {
                    return false;
                }

                number = implicitPost;
                return true;
            }

            if (!TryReadLabel(PostLabels, out _))
            {
                return true;
            }

            if (!TryReadLabelNumber(out var n))
            {
                return false;
            }

            number = n;
            return true;
        }

        private bool TryReadDev(out long? number)
        {
            number = null;
            if (!TryReadLabel(DevLabels, out _))
            {
                return true;
            }

            if (!TryReadLabelNumber(out var n))
            {
                return false;
            }

            number = n;
            return true;
        }

        private bool TryReadLocal(out string[]? segments)
        {
            segments = null;
            if (Peek() != '+')
            {
                return true;
            }

            _pos++;
            var parts = new List<string>();
            while (true)
            {
                var start = _pos;
                while (_pos < _text.Length && char.IsAsciiLetterOrDigit(_text[_pos]))
                {
                    _pos++;
                }

                if (_pos == start)
                {
                    return false;
                }

                parts.Add(NormalizeLocalSegment(_text[start.._pos]));
                if (!IsSeparator(Peek()))
                {
                    break;
                }

                _pos++;
            }

            segments = [.. parts];
            return true;
        }

        private static string NormalizeLocalSegment(ReadOnlySpan<char> segment)
        {
            var allDigits = true;
            foreach (var c in segment)
            {
                allDigits &= char.IsAsciiDigit(c);
            }

            if (allDigits)
            {
                var trimmed = segment.TrimStart('0');
                return trimmed.IsEmpty ? "0" : trimmed.ToString();
            }

            return segment.ToString().ToLowerInvariant();
        }
    }
}
