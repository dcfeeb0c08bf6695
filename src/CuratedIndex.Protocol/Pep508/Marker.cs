using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// A parsed PEP 508 environment marker (<c>python_version &lt; "3.8" and sys_platform == "win32"</c>). Parsing never
/// throws on hostile input beyond <see cref="TryParse"/>'s error; evaluation is pure.
/// </summary>
/// <remarks>
/// Grammar as packaging's parser: comparisons joined by <c>and</c> (binding tighter) and <c>or</c>, parentheses,
/// operators <c>&lt; &lt;= == != &gt;= &gt; ~= === in</c> and <c>not in</c>, one side a marker variable and the other
/// a single- or double-quoted string (no escapes). Only space and tab count as whitespace.
/// <para>
/// Evaluation follows packaging: for the version variables (<c>python_version</c>, <c>python_full_version</c>,
/// <c>implementation_version</c>, <c>platform_release</c>) a comparison whose operator and right side form a PEP 440
/// specifier and whose left side is a PEP 440 version compares as versions (pre-releases included); everything else
/// compares as strings (ordinal; <c>in</c> is a substring test). <c>~=</c> has no string meaning and is false there
/// (packaging raises instead). <c>extra</c> compares PEP 685 normalized.
/// </para>
/// </remarks>
public sealed class Marker
{
    public const int MaxInputLength = 4096;

    // Parentheses nest at most this deep; real markers use one or two levels.
    private const int MaxDepth = 32;

    private readonly string _text;
    private readonly Node _root;
    private readonly bool _usesExtra;

    private Marker(string text, Node root, bool usesExtra)
    {
        _text = text;
        _root = root;
        _usesExtra = usesExtra;
    }

    /// <summary>True when the marker mentions <c>extra</c>, so its result depends on the extras asked for.</summary>
    public bool UsesExtra => _usesExtra;

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says where and why in one line.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Marker? marker, [NotNullWhen(false)] out string? error)
    {
        marker = null;
        if (text is null)
        {
            error = "the marker is missing";
            return false;
        }

        if (text.Length > MaxInputLength)
        {
            error = $"the marker is longer than {MaxInputLength} characters";
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            error = "the marker is empty";
            return false;
        }

        var parser = new Parser(trimmed);
        if (!parser.TryParse(out var root))
        {
            error = $"{parser.Error} at column {parser.ErrorPosition + 1} of marker '{Quote(trimmed)}'";
            return false;
        }

        marker = new Marker(trimmed, root, parser.UsesExtra);
        error = null;
        return true;
    }

    /// <summary>
    /// True when the marker holds in <paramref name="environment"/> with the extras asked for (PEP 685 normalized names;
    /// empty: no extras, so <c>extra == "x"</c> is false). Version operators compare as PEP 440 where both sides parse.
    /// </summary>
    /// <remarks>
    /// As pip does: with no extras the marker is evaluated once with <c>extra</c> set to <c>""</c>; with extras it holds
    /// when it holds for any one of them (each evaluated on its own, so <c>extra == "a" and extra == "b"</c> never holds).
    /// </remarks>
    public bool Evaluate(MarkerEnvironment environment, IReadOnlySet<string> extras)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(extras);
        if (!_usesExtra || extras.Count == 0)
        {
            return _root.Evaluate(environment, "");
        }

        foreach (var extra in extras)
        {
            if (_root.Evaluate(environment, Requirement.NormalizeExtra(extra)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The marker as written (trimmed).</summary>
    public override string ToString() => _text;

    // For error messages: at most 100 characters, control characters shown as '?', so the message stays one line.
    internal static string Quote(string text)
    {
        var shown = text.Length > 100 ? text[..100] + "…" : text;
        return string.Create(shown.Length, shown, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    private static bool IsVersionVariable(string variable) =>
        variable is "python_version" or "python_full_version" or "implementation_version" or "platform_release";

    private static bool CompareStrings(string lhs, string op, string rhs) => op switch
    {
        "==" => string.Equals(lhs, rhs, StringComparison.Ordinal),
        "!=" => !string.Equals(lhs, rhs, StringComparison.Ordinal),
        "<" => string.CompareOrdinal(lhs, rhs) < 0,
        "<=" => string.CompareOrdinal(lhs, rhs) <= 0,
        ">" => string.CompareOrdinal(lhs, rhs) > 0,
        ">=" => string.CompareOrdinal(lhs, rhs) >= 0,
        "in" => rhs.Contains(lhs, StringComparison.Ordinal),
        "not in" => !rhs.Contains(lhs, StringComparison.Ordinal),
        "===" => string.Equals(lhs, rhs, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private abstract class Node
    {
        // extra: the one (normalized) extra this evaluation stands for, "" for none.
        public abstract bool Evaluate(MarkerEnvironment environment, string extra);
    }

    private sealed class AnyOf(Node[] items) : Node
    {
        public override bool Evaluate(MarkerEnvironment environment, string extra)
        {
            foreach (var item in items)
            {
                if (item.Evaluate(environment, extra))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private sealed class AllOf(Node[] items) : Node
    {
        public override bool Evaluate(MarkerEnvironment environment, string extra)
        {
            foreach (var item in items)
            {
                if (!item.Evaluate(environment, extra))
                {
                    return false;
                }
            }

            return true;
        }
    }

    // One comparison; literal is already PEP 685 normalized when the variable is extra.
    private sealed class Comparison : Node
    {
        private readonly string _variable;
        private readonly string _op;
        private readonly string _literal;
        private readonly bool _variableOnLeft;
        private readonly bool _asVersions;

        // Parsed once: with the variable on the left the specifier is op + literal; on the right the literal is the candidate.
        private readonly VersionSpecifier? _literalSpecifier;
        private readonly Pep440Version? _literalVersion;

        public Comparison(string variable, string op, string literal, bool variableOnLeft)
        {
            _variable = variable;
            _op = op;
            _literal = literal;
            _variableOnLeft = variableOnLeft;
            _asVersions = IsVersionVariable(variable) && op is not ("in" or "not in");
            if (_asVersions && variableOnLeft && VersionSpecifier.TryParse(op + literal, out var specifier))
            {
                _literalSpecifier = specifier;
            }
            else if (_asVersions && !variableOnLeft && Pep440Version.TryParse(literal, out var version))
            {
                _literalVersion = version;
            }
        }

        public override bool Evaluate(MarkerEnvironment environment, string extra)
        {
            var value = _variable == "extra" ? extra : environment.Get(_variable) ?? "";
            if (_literalSpecifier is not null && Pep440Version.TryParse(value, out var candidate))
            {
                return _literalSpecifier.Matches(candidate, null);
            }

            if (_literalVersion is not null && VersionSpecifier.TryParse(_op + value, out var specifier))
            {
                return specifier.Matches(_literalVersion, null);
            }

            // Not both versions: packaging compares the strings.
            return _variableOnLeft ? CompareStrings(value, _op, _literal) : CompareStrings(_literal, _op, value);
        }
    }

    private readonly struct Operand(string text, bool isVariable, int position)
    {
        public string Text { get; } = text;

        public bool IsVariable { get; } = isVariable;

        public int Position { get; } = position;
    }

    // Recursive descent over the trimmed text; the first failure sets Error and ErrorPosition.
    private sealed class Parser(string text)
    {
        private static readonly string[] SymbolOperators = ["===", "==", "~=", "!=", "<=", ">=", "<", ">"];

        private int _pos;

        public string Error { get; private set; } = "";

        public int ErrorPosition { get; private set; }

        public bool UsesExtra { get; private set; }

        public bool TryParse([NotNullWhen(true)] out Node? root)
        {
            root = ParseOr(0);
            if (root is null)
            {
                return false;
            }

            SkipWhitespace();
            if (_pos < text.Length)
            {
                root = null;
                var found = Word();
                return Fail(text[_pos] == ')'
                    ? "unmatched ')'"
                    : $"expected 'and', 'or' or the end, found '{Quote(found.Length > 0 ? found : text[_pos].ToString())}'");
            }

            return true;
        }

        private Node? ParseOr(int depth)
        {
            var items = new List<Node>();
            do
            {
                var item = ParseAnd(depth);
                if (item is null)
                {
                    return null;
                }

                items.Add(item);
            }
            while (TryKeyword("or"));

            return items.Count == 1 ? items[0] : new AnyOf([.. items]);
        }

        private Node? ParseAnd(int depth)
        {
            var items = new List<Node>();
            do
            {
                var item = ParseAtom(depth);
                if (item is null)
                {
                    return null;
                }

                items.Add(item);
            }
            while (TryKeyword("and"));

            return items.Count == 1 ? items[0] : new AllOf([.. items]);
        }

        private Node? ParseAtom(int depth)
        {
            SkipWhitespace();
            if (Peek() != '(')
            {
                return ParseComparison();
            }

            if (depth >= MaxDepth)
            {
                Fail($"parentheses nest deeper than {MaxDepth}");
                return null;
            }

            var open = _pos;
            _pos++;
            var inner = ParseOr(depth + 1);
            if (inner is null)
            {
                return null;
            }

            SkipWhitespace();
            if (Peek() != ')')
            {
                _pos = open;
                Fail("'(' is never closed");
                return null;
            }

            _pos++;
            return inner;
        }

        private Comparison? ParseComparison()
        {
            if (!TryReadOperand(out var left))
            {
                return null;
            }

            SkipWhitespace();
            var opPosition = _pos;
            var op = ReadOperator();
            if (op is null)
            {
                return null;
            }

            SkipWhitespace();
            if (!TryReadOperand(out var right))
            {
                return null;
            }

            if (left.IsVariable == right.IsVariable)
            {
                _pos = left.Position;
                Fail(left.IsVariable
                    ? $"'{left.Text} {op} {right.Text}' compares two variables; one side must be a quoted string"
                    : $"'\"{Quote(left.Text)}\" {op} \"{Quote(right.Text)}\"' compares two strings; one side must be a marker variable");
                return null;
            }

            var variable = left.IsVariable ? left.Text : right.Text;
            var literal = left.IsVariable ? right.Text : left.Text;
            if (variable == "extra")
            {
                UsesExtra = true;
                literal = Requirement.NormalizeExtra(literal);
            }

            // With the variable on the left the operand of ~= is fixed: it must be a version, or no environment satisfies it.
            if (op == "~=" && left.IsVariable && !(IsVersionVariable(variable) && VersionSpecifier.TryParse(op + literal, out _)))
            {
                _pos = opPosition;
                Fail($"'~=' needs a version variable and a PEP 440 version, not '{variable} ~= \"{Quote(literal)}\"'");
                return null;
            }

            return new Comparison(variable, op, literal, left.IsVariable);
        }

        private bool TryReadOperand(out Operand operand)
        {
            operand = default;
            var start = _pos;
            var c = Peek();
            if (c is '"' or '\'')
            {
                var close = text.IndexOf(c, _pos + 1);
                if (close < 0)
                {
                    return Fail($"the string starting with {c} is never closed");
                }

                operand = new Operand(text[(_pos + 1)..close], false, start);
                _pos = close + 1;
                return true;
            }

            var name = Word();
            if (name.Length == 0)
            {
                return Fail(_pos < text.Length
                    ? $"expected a marker variable or a quoted string, found '{Quote(text[_pos].ToString())}'"
                    : "expected a marker variable or a quoted string, found the end");
            }

            var canonical = MarkerEnvironment.CanonicalName(name);
            if (canonical is null)
            {
                return Fail($"unknown marker variable '{Quote(name)}'");
            }

            _pos += name.Length;
            operand = new Operand(canonical, true, start);
            return true;
        }

        private string? ReadOperator()
        {
            foreach (var symbol in SymbolOperators)
            {
                if (string.CompareOrdinal(text, _pos, symbol, 0, symbol.Length) == 0)
                {
                    _pos += symbol.Length;
                    return symbol;
                }
            }

            var word = Word();
            if (word == "in")
            {
                _pos += word.Length;
                return "in";
            }

            if (word == "not")
            {
                var afterNot = _pos + word.Length;
                _pos = afterNot;
                SkipWhitespace();
                if (_pos > afterNot && Word() == "in")
                {
                    _pos += 2;
                    return "not in";
                }

                Fail("expected 'in' after 'not'");
                return null;
            }

            Fail(_pos < text.Length
                ? $"expected an operator (<, <=, ==, !=, >=, >, ~=, ===, in, not in), found '{Quote(word.Length > 0 ? word : text[_pos].ToString())}'"
                : "expected an operator (<, <=, ==, !=, >=, >, ~=, ===, in, not in), found the end");
            return null;
        }

        // Consumes 'and' / 'or' (as whole words) after optional whitespace; leaves the position unchanged otherwise.
        private bool TryKeyword(string keyword)
        {
            var save = _pos;
            SkipWhitespace();
            if (Word() == keyword)
            {
                _pos += keyword.Length;
                return true;
            }

            _pos = save;
            return false;
        }

        // The run of identifier characters at the current position (a variable may contain dots: os.name).
        private string Word()
        {
            var end = _pos;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '_' or '.'))
            {
                end++;
            }

            return text[_pos..end];
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void SkipWhitespace()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t')
            {
                _pos++;
            }
        }

        private bool Fail(string message)
        {
            Error = message;
            ErrorPosition = _pos;
            return false;
        }
    }
}
