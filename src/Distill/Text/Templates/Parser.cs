namespace Distill.Text.Templates;

/// <summary>
/// Recursive-descent parser from tokens to statements, following Jinja2's grammar. Tags Jinja2 knows but this
/// interpreter does not run (macro, call, include, ...) raise <see cref="NotSupportedException"/>; malformed
/// templates raise <see cref="InvalidDataException"/> with line and column.
/// </summary>
internal sealed partial class Parser
{
    // Nesting beyond this is not a chat template; refusing it keeps hostile input from overflowing the stack.
    private const int MaxDepth = 200;

    private static readonly HashSet<string> UnsupportedTags =
        ["macro", "endmacro", "call", "endcall", "filter", "endfilter", "include", "import", "from", "extends", "block",
         "endblock", "with", "endwith", "autoescape", "endautoescape", "do", "trans", "endtrans", "pluralize", "raw"];

    private readonly List<Token> _tokens;
    private readonly string _name;
    private int _pos;
    private int _depth;
    private int _loopDepth;

    private Parser(List<Token> tokens, string name)
    {
        _tokens = tokens;
        _name = name;
    }

    public static IReadOnlyList<Stmt> Parse(string source, string name)
    {
        var parser = new Parser(Lexer.Tokenize(source, name), name);
        var body = parser.ParseBody([]);
        if (parser.Current.Kind != TokenKind.End) throw parser.Error(parser.Current, $"unexpected tag '{parser.Current.Value}'");
        return body;
    }

    private Token Current => _tokens[_pos];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private InvalidDataException Error(Token at, string reason) => TemplateErrors.Syntax(_name, at.Line, at.Column, reason);

    private NotSupportedException Unsupported(Token at, string construct) => TemplateErrors.Unsupported(_name, at.Line, construct);

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.String => "a string",
        _ => $"'{t.Value}'",
    };

    private Token Expect(TokenKind kind, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            var wanted = value ?? kind switch
            {
                TokenKind.Name => "a name",
                TokenKind.BlockEnd => "%}",
                TokenKind.VariableEnd => "}}",
                _ => kind.ToString(),
            };
            throw Error(t, $"expected '{wanted}' but found {Describe(t)}");
        }
        return Next();
    }

    private bool Skip(TokenKind kind, string value)
    {
        if (!Current.Is(kind, value)) return false;
        _pos++;
        return true;
    }

    private void Enter(Token at)
    {
        if (++_depth > MaxDepth) throw Error(at, $"nesting deeper than {MaxDepth} levels");
    }

    /// <summary>Parses until a block tag named in <paramref name="stop"/>; leaves the stream on that tag's name.</summary>
    private List<Stmt> ParseBody(HashSet<string> stop)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (stop.Count > 0) throw Error(t, $"unexpected end of template, expected one of: {string.Join(", ", stop.Order(StringComparer.Ordinal))}");
                    return body;
                case TokenKind.Text:
                    Next();
                    body.Add(new Stmt.Text(t.Value, t.Line));
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    body.Add(new Stmt.Output(ParseExpression(), t.Line));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    Next();
                    var tag = Current;
                    if (tag.Kind == TokenKind.Name && stop.Contains(tag.Value)) return body;
                    ParseTag(body);
                    break;
                default:
                    throw Error(t, $"unexpected {Describe(t)}");
            }
        }
    }

    private void ParseTag(List<Stmt> body)
    {
        var tag = Expect(TokenKind.Name);
        Enter(tag);
        switch (tag.Value)
        {
            case "if": body.Add(ParseIf(tag)); break;
            case "for": body.Add(ParseFor(tag)); break;
            case "set": body.Add(ParseSet(tag)); break;
            case "break" or "continue":
                if (_loopDepth == 0) throw Error(tag, $"'{tag.Value}' outside of a loop");
                Expect(TokenKind.BlockEnd);
                body.Add(tag.Value == "break" ? new Stmt.Break(tag.Line) : new Stmt.Continue(tag.Line));
                break;
            case "generation":
                // transformers' AssistantTracker tag only marks assistant text; the output is its body.
                Expect(TokenKind.BlockEnd);
                body.AddRange(ParseBody(["endgeneration"]));
                EndTag();
                break;
            default:
                if (UnsupportedTags.Contains(tag.Value)) throw Unsupported(tag, $"the '{tag.Value}' tag");
                throw Error(tag, $"unknown tag '{tag.Value}'");
        }
        _depth--;
    }

    private void EndTag()
    {
        Next();
        Expect(TokenKind.BlockEnd);
    }

    private Stmt.If ParseIf(Token tag)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        IReadOnlyList<Stmt>? otherwise = null;
        var test = ParseExpression();
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            var kind = Next().Value;
            if (kind == "elif")
            {
                test = ParseExpression();
                continue;
            }
            if (kind == "else")
            {
                Expect(TokenKind.BlockEnd);
                otherwise = ParseBody(["endif"]);
                EndTag();
            }
            else
            {
                Expect(TokenKind.BlockEnd);
            }
            return new Stmt.If(branches, otherwise, tag.Line);
        }
    }

    private Stmt.For ParseFor(Token tag)
    {
        var target = ParseTarget(allowAttribute: false);
        Expect(TokenKind.Name, "in");
        var iterable = ParseTernary(allowCondition: false);
        Expr? condition = null;
        if (Skip(TokenKind.Name, "if")) condition = ParseExpression();
        if (Current.IsName("recursive")) throw Unsupported(Current, "a recursive for loop");
        Expect(TokenKind.BlockEnd);
        _loopDepth++;
        var body = ParseBody(["else", "endfor"]);
        _loopDepth--;
        IReadOnlyList<Stmt>? otherwise = null;
        if (Next().Value == "else")
        {
            Expect(TokenKind.BlockEnd);
            var saved = _loopDepth;
            _loopDepth = 0;
            otherwise = ParseBody(["endfor"]);
            _loopDepth = saved;
            Next();
        }
        Expect(TokenKind.BlockEnd);
        return new Stmt.For(target, iterable, condition, body, otherwise, tag.Line);
    }

    private Stmt ParseSet(Token tag)
    {
        var target = ParseTarget(allowAttribute: true);
        if (Skip(TokenKind.Operator, "="))
        {
            var value = ParseTupleOrExpression();
            Expect(TokenKind.BlockEnd);
            return new Stmt.Set(target, value, tag.Line);
        }
        if (Current.IsOperator("|")) throw Unsupported(Current, "a filtered block set");
        if (target.Names.Count != 1 || target.Attribute is not null) throw Error(tag, "a block set assigns exactly one name");
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endset"]);
        EndTag();
        return new Stmt.SetBlock(target.Names[0], body, tag.Line);
    }

    private AssignTarget ParseTarget(bool allowAttribute)
    {
        var parenthesised = Skip(TokenKind.Operator, "(");
        var first = Expect(TokenKind.Name);
        if (allowAttribute && !parenthesised && Skip(TokenKind.Operator, "."))
        {
            return new AssignTarget([first.Value], Expect(TokenKind.Name).Value);
        }
        var names = new List<string> { first.Value };
        while (Skip(TokenKind.Operator, ","))
        {
            if (Current.Kind != TokenKind.Name) break;
            names.Add(Next().Value);
        }
        if (parenthesised) Expect(TokenKind.Operator, ")");
        foreach (var n in names)
        {
            if (n is "true" or "false" or "none" or "True" or "False" or "None") throw Error(first, $"cannot assign to '{n}'");
        }
        return new AssignTarget(names, null);
    }
}
