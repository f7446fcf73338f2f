using System.Globalization;
using System.Text;

namespace Distill.Text.Templates;

/// <summary>
/// Splits a template into text and tag tokens with Jinja2's whitespace rules as transformers configures
/// them: trim_blocks (drop the first newline after a block or comment tag), lstrip_blocks (drop spaces and
/// tabs before a block or comment tag that starts its line), '-' and '+' markers, no trailing newline.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "=", "<", ">", ";"];

    private readonly string _src;
    private readonly string _name;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(string source, string name)
    {
        _src = Normalize(source);
        _name = name;
        for (var i = 0; i < _src.Length; i++)
        {
            if (_src[i] == '\n') _lineStarts.Add(i + 1);
        }
    }

    public static List<Token> Tokenize(string source, string name)
    {
        var lexer = new Lexer(source, name);
        lexer.Run();
        return lexer._tokens;
    }

    // Jinja2 turns \r\n and \r into \n and, without keep_trailing_newline, drops one final newline.
    private static string Normalize(string source)
    {
        var s = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private (int Line, int Column) Where(int pos)
    {
        var i = _lineStarts.BinarySearch(pos);
        if (i < 0) i = ~i - 1;
        return (i + 1, pos - _lineStarts[i] + 1);
    }

    private InvalidDataException Error(int pos, string reason)
    {
        var (line, col) = Where(pos);
        return TemplateErrors.Syntax(_name, line, col, reason);
    }

    private void Add(TokenKind kind, string value, int pos)
    {
        var (line, col) = Where(pos);
        _tokens.Add(new Token(kind, value, line, col));
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            var start = FindTagStart(_pos);
            if (start < 0)
            {
                Add(TokenKind.Text, _src[_pos..], _pos);
                _pos = _src.Length;
                break;
            }
            var kind = _src[start + 1];
            var sign = start + 2 < _src.Length && (_src[start + 2] == '-' || _src[start + 2] == '+') ? _src[start + 2] : '\0';
            var text = ApplyLeftWhitespaceControl(_src[_pos..start], sign, kind != '{');
            if (text.Length > 0) Add(TokenKind.Text, text, _pos);
            _pos = start + 2 + (sign == '\0' ? 0 : 1);
            if (kind == '#') LexComment(start);
            else LexTag(start, kind == '%');
        }
        Add(TokenKind.End, "", _src.Length);
    }

    private int FindTagStart(int from)
    {
        for (var i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            var c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    private string ApplyLeftWhitespaceControl(string text, char sign, bool isBlockOrComment)
    {
        if (sign == '-') return PyStr.RStrip(text, null);
        if (sign == '+' || !isBlockOrComment) return text;
        var lpos = text.LastIndexOf('\n') + 1;
        if (lpos == 0 && !_lineStarting) return text;
        for (var i = lpos; i < text.Length; i++)
        {
            if (text[i] != ' ' && text[i] != '\t') return text;
        }
        return text[..lpos];
    }

    private void LexComment(int start)
    {
        var end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0) throw Error(start, "missing end of comment tag");
        var before = end > _pos ? _src[end - 1] : '\0';
        _pos = end + 2;
        FinishTag(before, trimBlocks: true);
    }

    // After a tag: '-' strips all following whitespace, '+' keeps it, otherwise trim_blocks drops one newline.
    private void FinishTag(char marker, bool trimBlocks)
    {
        if (marker == '-')
        {
            while (_pos < _src.Length && PyStr.IsSpace(_src[_pos])) _pos++;
        }
        else if (marker != '+' && trimBlocks && _pos < _src.Length && _src[_pos] == '\n')
        {
            _pos++;
        }
        _lineStarting = _src[_pos - 1] == '\n';
    }

    private void LexTag(int start, bool isBlock)
    {
        Add(isBlock ? TokenKind.BlockBegin : TokenKind.VariableBegin, isBlock ? "{%" : "{{", start);
        if (isBlock) RejectRaw(start);
        var depth = 0;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
            if (_pos >= _src.Length) throw Error(start, $"unexpected end of template: the tag opened here is never closed with '{(isBlock ? "%}" : "}}")}'");
            if (depth == 0 && TryLexTagEnd(isBlock)) return;
            var c = _src[_pos];
            if (c == '\'' || c == '"') LexString();
            else if (char.IsAsciiDigit(c)) LexNumber();
            else if (char.IsLetter(c) || c == '_') LexName();
            else depth += LexOperator();
            if (depth < 0) throw Error(_pos - 1, "unbalanced closing bracket");
        }
    }

    private void RejectRaw(int start)
    {
        var p = _pos;
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        if (string.CompareOrdinal(_src, p, "raw", 0, 3) == 0 && (p + 3 >= _src.Length || !char.IsLetterOrDigit(_src[p + 3])))
        {
            throw TemplateErrors.Unsupported(_name, Where(start).Line, "the 'raw' block");
        }
    }

    private bool TryLexTagEnd(bool isBlock)
    {
        var close = isBlock ? "%}" : "}}";
        var marker = '\0';
        var at = _pos;
        if ((_src[at] == '-' || (_src[at] == '+' && isBlock)) && string.CompareOrdinal(_src, at + 1, close, 0, 2) == 0)
        {
            marker = _src[at];
            at++;
        }
        if (string.CompareOrdinal(_src, at, close, 0, 2) != 0) return false;
        Add(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, at);
        _pos = at + 2;
        FinishTag(marker, trimBlocks: isBlock);
        return true;
    }

    private void LexName()
    {
        var start = _pos;
        while (_pos < _src.Length && (char.IsLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        Add(TokenKind.Name, _src[start.._pos], start);
    }

    private void LexNumber()
    {
        var start = _pos;
        SkipDigits();
        var afterDot = _tokens.Count > 0 && _tokens[^1].IsOperator(".");
        var isFloat = false;
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E'))
        {
            var p = _pos + 1;
            if (p < _src.Length && (_src[p] == '+' || _src[p] == '-')) p++;
            if (p < _src.Length && char.IsAsciiDigit(_src[p]))
            {
                _pos = p;
                SkipDigits();
                isFloat = true;
            }
        }
        var text = _src[start.._pos];
        if (!isFloat && text.Length > 1 && text[0] == '0')
        {
            if (text.Any(c => c is not ('0' or '_'))) throw Error(start, "an integer literal cannot have leading zeros");
            if (_pos < _src.Length && _src[_pos] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B') throw TemplateErrors.Unsupported(_name, Where(start).Line, "a hexadecimal, octal or binary literal");
        }
        if (text == "0" && _pos < _src.Length && _src[_pos] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            throw TemplateErrors.Unsupported(_name, Where(start).Line, "a hexadecimal, octal or binary literal");
        }
        Add(isFloat ? TokenKind.Float : TokenKind.Integer, text.Replace("_", "", StringComparison.Ordinal), start);
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1])))) _pos++;
    }

    private int LexOperator()
    {
        foreach (var op in Operators)
        {
            if (string.CompareOrdinal(_src, _pos, op, 0, op.Length) != 0) continue;
            Add(TokenKind.Operator, op, _pos);
            _pos += op.Length;
            return op is "(" or "[" or "{" ? 1 : op is ")" or "]" or "}" ? -1 : 0;
        }
        throw Error(_pos, $"unexpected character '{_src[_pos]}'");
    }

    private void LexString()
    {
        var start = _pos;
        var quote = _src[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Error(start, "unterminated string literal");
            var c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _src.Length) throw Error(start, "unterminated string literal");
            DecodeEscape(sb, start);
        }
        Add(TokenKind.String, sb.ToString(), start);
    }

    // Jinja2 decodes string literals with Python's unicode-escape codec: unknown escapes stay as written.
    private void DecodeEscape(StringBuilder sb, int start)
    {
        var c = _src[_pos++];
        switch (c)
        {
            case '\n': return;
            case '\\': sb.Append('\\'); return;
            case '\'': sb.Append('\''); return;
            case '"': sb.Append('"'); return;
            case 'n': sb.Append('\n'); return;
            case 't': sb.Append('\t'); return;
            case 'r': sb.Append('\r'); return;
            case 'a': sb.Append('\a'); return;
            case 'b': sb.Append('\b'); return;
            case 'f': sb.Append('\f'); return;
            case 'v': sb.Append('\v'); return;
            case 'x': AppendHex(sb, 2, start); return;
            case 'u': AppendHex(sb, 4, start); return;
            case 'U': AppendHex(sb, 8, start); return;
            case 'N': throw TemplateErrors.Unsupported(_name, Where(start).Line, "the \\N{...} string escape");
        }
        if (c >= '0' && c <= '7')
        {
            var value = c - '0';
            for (var k = 0; k < 2 && _pos < _src.Length && _src[_pos] >= '0' && _src[_pos] <= '7'; k++) value = value * 8 + (_src[_pos++] - '0');
            sb.Append((char)value);
            return;
        }
        sb.Append('\\').Append(c);
    }

    private void AppendHex(StringBuilder sb, int digits, int start)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
            || code > 0x10FFFF || code < 0)
        {
            throw Error(start, "malformed \\x, \\u or \\U escape in a string literal");
        }
        _pos += digits;
        sb.Append(code < 0x10000 ? ((char)code).ToString() : char.ConvertFromUtf32(code));
    }
}
