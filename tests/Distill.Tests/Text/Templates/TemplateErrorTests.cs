using Distill.Text;
using Distill.Text.Templates;

namespace Distill.Tests.Text;

/// <summary>Malformed, unsupported and failing templates: each error names the template and the line.</summary>
public sealed class TemplateErrorTests
{
    private static readonly Dictionary<string, object?> Empty = [];

    [Fact]
    public void Parse_Should_Report_An_Unclosed_If_With_The_Template_Name_And_Line()
    {
        var ex = Assert.Throws<InvalidDataException>(() => JinjaTemplate.Parse("line one\n{% if x %}\nno end", "broken"));
        Assert.Contains("'broken'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("endif", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ 1 + }}", 1)]
    [InlineData("ok\n\n{{ x ", 3)]
    [InlineData("a\n{% frobnicate %}", 2)]
    [InlineData("{{ 'unterminated }}", 1)]
    [InlineData("{% for x in y %}{% endif %}", 1)]
    [InlineData("{% break %}", 1)]
    [InlineData("a\n{# never closed", 2)]
    [InlineData("{{ a ) }}", 1)]
    [InlineData("\n{{ 07 }}", 2)]
    public void Parse_Should_Reject_Syntax_Errors_With_Their_Line(string source, int line)
    {
        var ex = Assert.Throws<InvalidDataException>(() => JinjaTemplate.Parse(source, "bad"));
        Assert.Contains($"line {line},", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\n{% macro m() %}x{% endmacro %}", "macro", 2)]
    [InlineData("{% raw %}{{ x }}{% endraw %}", "raw", 1)]
    [InlineData("\n\n{{ x|batch(2) }}", "batch", 3)]
    [InlineData("{% include 'other.jinja' %}", "include", 1)]
    [InlineData("{{ x is divisibleby3 }}", "divisibleby3", 1)]
    [InlineData("{% for x in y recursive %}{% endfor %}", "recursive", 1)]
    public void Parse_Should_Refuse_Unsupported_Constructs_By_Name_And_Line(string source, string construct, int line)
    {
        var ex = Assert.Throws<NotSupportedException>(() => JinjaTemplate.Parse(source, "unsupported"));
        Assert.Contains(construct, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"line {line}:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ 'a'.center(5) }}", "center")]
    [InlineData("{{ '%s!' % 'x' }}", "%")]
    [InlineData("{{ '{0:>3}'.format(1) }}", "format")]
    [InlineData("{{ strftime_now('%G') }}", "%G")]
    [InlineData("{{ cycler('a') }}", "cycler")]
    [InlineData("{{ [1, 2]|map('string') }}", "iterator")]
    [InlineData("{{ 5[1:] }}", "slicing")]
    [InlineData("{{ 'a'.upper }}", "printing the function")]
    public void Render_Should_Refuse_Unsupported_Operations_Instead_Of_Guessing(string source, string construct)
    {
        var template = JinjaTemplate.Parse(source, "unsupported");
        var ex = Assert.Throws<NotSupportedException>(() => template.Render(Empty));
        Assert.Contains(construct, ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RaiseException_Should_Surface_The_Templates_Message_Template_And_Line()
    {
        var template = JinjaTemplate.Parse("ok\n{{ raise_exception('Bad role: ' ~ role) }}", "mistral");
        var ex = Assert.Throws<TemplateRenderException>(() => template.Render(new Dictionary<string, object?> { ["role"] = "tool" }));
        Assert.Equal("Bad role: tool", ex.RaisedMessage);
        Assert.Equal("mistral", ex.TemplateName);
        Assert.Equal(2, ex.Line);
        Assert.Contains("Bad role: tool", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mistral_BuiltIn_Should_Raise_When_Roles_Do_Not_Alternate()
    {
        var mistral = ChatTemplate.BuiltIn("mistral");
        var ex = Assert.Throws<TemplateRenderException>(() =>
            mistral.Render([new ChatMessage("user", "a"), new ChatMessage("user", "b")], addGenerationPrompt: false));
        Assert.Equal("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...", ex.RaisedMessage);
        Assert.Equal("mistral", ex.TemplateName);
    }

    [Theory]
    [InlineData("{{ missing.attr }}", "'missing' is undefined")]
    [InlineData("{{ missing['k'] }}", "'missing' is undefined")]
    [InlineData("{{ missing + 'a' }}", "'missing' is undefined")]
    [InlineData("{{ missing() }}", "'missing' is undefined")]
    [InlineData("{{ 'a' < 1 }}", "'<' not supported")]
    [InlineData("{{ 1 + 'a' }}", "unsupported operand")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{% set l = [] %}{{ l.append(1) }}", "unsafe")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "non-namespace")]
    [InlineData("{{ missing|tojson }}", "not JSON serializable")]
    [InlineData("{% for a, b in [[1, 2, 3]] %}{% endfor %}", "cannot unpack")]
    [InlineData("{% for x in 5 %}{% endfor %}", "not iterable")]
    public void Render_Should_Fail_Where_Jinja2_Fails(string source, string reason)
    {
        var template = JinjaTemplate.Parse(source, "failing");
        var ex = Assert.Throws<TemplateRenderException>(() => template.Render(Empty));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.RaisedMessage);
    }

    [Fact]
    public void Parse_Should_Refuse_Hostile_Nesting_Without_Overflowing_The_Stack()
    {
        var deep = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        Assert.Throws<InvalidDataException>(() => JinjaTemplate.Parse(deep, "deep"));
        var deepIfs = string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + string.Concat(Enumerable.Repeat("{% endif %}", 5000));
        Assert.Throws<InvalidDataException>(() => JinjaTemplate.Parse(deepIfs, "deep"));
    }

    [Theory]
    [InlineData("{{ range(1000000000)|length }}")]
    [InlineData("{{ 'x' * 1000000000 }}")]
    [InlineData("{{ 2 ** 200 }}")]
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(300) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")]
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(300) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x == ns.x }}")]
    [InlineData("{% set ns = namespace(x=[]) %}{% for i in range(300) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x|tojson }}")]
    public void Render_Should_Refuse_Huge_Values_Instead_Of_Allocating_Them(string source)
    {
        var template = JinjaTemplate.Parse(source, "huge");
        var ex = Record.Exception(() => template.Render(Empty));
        Assert.True(ex is TemplateRenderException or NotSupportedException, ex?.GetType().Name ?? "no exception");
    }
}
