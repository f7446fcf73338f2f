using System.Globalization;

namespace Distill.Text.Templates;

/// <summary>Expression grammar, in Jinja2's precedence order (loosest first).</summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseExpression() => ParseTernary(allowCondition: true);

    private Expr ParseTupleOrExpression()
    {
        var first = ParseExpression();
        if (!Current.IsOperator(",")) return first;
        var items = new List<Expr> { first };
        while (Skip(TokenKind.Operator, ","))
        {
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd) break;
            items.Add(ParseExpression());
        }
        return new Expr.TupleLiteral(items, first.Line);
    }

    private Expr ParseTernary(bool allowCondition)
    {
        var expr = ParseOr();
        while (allowCondition && Current.IsName("if"))
        {
            var line = Next().Line;
            var test = ParseOr();
            var otherwise = Skip(TokenKind.Name, "else") ? ParseTernary(allowCondition: true) : null;
            expr = new Expr.Conditional(test, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var line = Next().Line;
            left = new Expr.Binary("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var line = Next().Line;
            left = new Expr.Binary("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!Current.IsName("not")) return ParseCompare();
        var t = Next();
        Enter(t);
        var operand = ParseNot();
        _depth--;
        return new Expr.Unary("not", operand, t.Line);
    }

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value)) op = Next().Value;
            else if (Current.IsName("in")) op = Next().Value;
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                Next();
                Next();
                op = "not in";
            }
            else break;
            rest.Add((op, ParseMath1()));
        }
        return rest.Count == 0 ? first : new Expr.Compare(first, rest, first.Line);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var t = Next();
            left = new Expr.Binary(t.Value, left, ParseConcat(), t.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var t = Next();
            left = new Expr.Binary("~", left, ParseMath2(), t.Line);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var t = Next();
            left = new Expr.Binary(t.Value, left, ParsePow(), t.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var t = Next();
            left = new Expr.Binary("**", left, ParseUnary(withFilter: true), t.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Current;
        Enter(t);
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            Next();
            node = new Expr.Unary(t.Value, ParseUnary(withFilter: false), t.Line);
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterChain(node);
        _depth--;
        return node;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new Expr.Literal(true, t.Line),
                    "false" or "False" => new Expr.Literal(false, t.Line),
                    "none" or "None" => new Expr.Literal(null, t.Line),
                    _ => new Expr.Name(t.Value, t.Line),
                };
            case TokenKind.String:
                var s = t.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value;
                return new Expr.Literal(s, t.Line);
            case TokenKind.Integer:
                if (!long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l)) throw Unsupported(t, $"the integer literal {t.Value} (beyond 64 bits)");
                return new Expr.Literal(l, t.Line);
            case TokenKind.Float:
                return new Expr.Literal(double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Operator when t.Value == "(":
                return ParseParenthesised(t);
            case TokenKind.Operator when t.Value == "[":
                return new Expr.ListLiteral(ParseItems("]"), t.Line);
            case TokenKind.Operator when t.Value == "{":
                return ParseDict(t);
            default:
                throw Error(t, $"unexpected {Describe(t)} in an expression");
        }
    }

    private Expr ParseParenthesised(Token open)
    {
        if (Skip(TokenKind.Operator, ")")) return new Expr.TupleLiteral([], open.Line);
        var first = ParseExpression();
        if (Skip(TokenKind.Operator, ")")) return first;
        Expect(TokenKind.Operator, ",");
        return new Expr.TupleLiteral(ParseItems(")", first), open.Line);
    }

    private List<Expr> ParseItems(string close, Expr? first = null)
    {
        var items = first is null ? new List<Expr>() : [first];
        while (!Skip(TokenKind.Operator, close))
        {
            items.Add(ParseExpression());
            if (!Current.IsOperator(close)) Expect(TokenKind.Operator, ",");
        }
        return items;
    }

    private Expr.DictLiteral ParseDict(Token open)
    {
        var pairs = new List<(Expr, Expr)>();
        while (!Skip(TokenKind.Operator, "}"))
        {
            var key = ParseExpression();
            Expect(TokenKind.Operator, ":");
            pairs.Add((key, ParseExpression()));
            if (!Current.IsOperator("}")) Expect(TokenKind.Operator, ",");
        }
        return new Expr.DictLiteral(pairs, open.Line);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                Next();
                var attr = Next();
                node = attr.Kind switch
                {
                    TokenKind.Name => new Expr.GetAttr(node, attr.Value, t.Line),
                    TokenKind.Integer => new Expr.GetItem(node, new Expr.Literal(long.Parse(attr.Value, CultureInfo.InvariantCulture), t.Line), t.Line),
                    _ => throw Error(attr, $"expected an attribute name after '.' but found {Describe(attr)}"),
                };
            }
            else if (t.IsOperator("["))
            {
                Next();
                node = ParseSubscript(node, t);
            }
            else if (t.IsOperator("("))
            {
                node = new Expr.Call(node, ParseArguments(), t.Line);
            }
            else return node;
        }
    }

    private Expr ParseSubscript(Expr target, Token open)
    {
        Expr? start = Current.IsOperator(":") ? null : ParseExpression();
        if (start is not null && Skip(TokenKind.Operator, "]")) return new Expr.GetItem(target, start, open.Line);
        if (Current.IsOperator(",")) throw Unsupported(Current, "a tuple subscript");
        Expect(TokenKind.Operator, ":");
        Expr? stop = Current.IsOperator("]") || Current.IsOperator(":") ? null : ParseExpression();
        Expr? step = null;
        if (Skip(TokenKind.Operator, ":") && !Current.IsOperator("]")) step = ParseExpression();
        Expect(TokenKind.Operator, "]");
        return new Expr.Slice(target, start, stop, step, open.Line);
    }

    private Expr ParseFilterChain(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("|"))
            {
                Next();
                var name = ParseDottedName();
                if (!Filters.IsKnown(name)) throw Unsupported(t, $"the filter '{name}'");
                var args = Current.IsOperator("(") ? ParseArguments() : Arguments.None;
                node = new Expr.Filter(node, name, args, t.Line);
            }
            else if (t.IsName("is"))
            {
                Next();
                node = ParseTest(node, t);
            }
            else if (t.IsOperator("("))
            {
                node = new Expr.Call(node, ParseArguments(), t.Line);
            }
            else return node;
        }
    }

    private Expr ParseTest(Expr node, Token isToken)
    {
        var negated = Skip(TokenKind.Name, "not");
        var name = ParseDottedName();
        if (!TestFunctions.IsKnown(name)) throw Unsupported(isToken, $"the test '{name}'");
        var args = Arguments.None;
        var c = Current;
        if (c.IsOperator("(")) args = ParseArguments();
        else if ((c.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || c.IsOperator("[") || c.IsOperator("{"))
                 && !(c.IsName("else") || c.IsName("or") || c.IsName("and")))
        {
            if (c.IsName("is")) throw Error(c, "tests cannot be chained with 'is'");
            args = new Arguments([ParsePostfix(ParsePrimary())], []);
        }
        return new Expr.Test(node, name, args, negated, isToken.Line);
    }

    private string ParseDottedName()
    {
        var name = Expect(TokenKind.Name).Value;
        while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name)
        {
            Next();
            name += "." + Next().Value;
        }
        return name;
    }

    private Arguments ParseArguments()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!Skip(TokenKind.Operator, ")"))
        {
            if (positional.Count + named.Count > 0) Expect(TokenKind.Operator, ",");
            if (Skip(TokenKind.Operator, ")")) break;
            if (Current.IsOperator("*") || Current.IsOperator("**")) throw Unsupported(Current, "argument unpacking with * or **");
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                var key = Next().Value;
                Next();
                named.Add((key, ParseExpression()));
            }
            else
            {
                if (named.Count > 0) throw Error(Current, "a positional argument follows a keyword argument");
                positional.Add(ParseExpression());
            }
        }
        return new Arguments(positional, named);
    }
}
