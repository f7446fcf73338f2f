namespace Distill.Text.Templates;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexed token; <see cref="Value"/> is the decoded text of strings and the spelling of everything else.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsOperator(string op) => Is(TokenKind.Operator, op);

    public bool IsName(string name) => Is(TokenKind.Name, name);
}
