using Distill.Text.Templates;

namespace Distill.Tests.Text;

/// <summary>
/// Interpreter semantics on tiny templates. Expected strings were worked out by hand from Jinja2's rules
/// (and confirmed once against Jinja2 3.1.6 with transformers' settings).
/// </summary>
public sealed class JinjaSemanticsTests
{
    private static readonly Dictionary<string, object?> Context = new()
    {
        ["items"] = new[] { "x", "y", "z" },
        ["s"] = "abcdef",
        ["n"] = 7,
        ["d"] = new Dictionary<string, object?> { ["b"] = 2, ["a"] = 1 },
        ["nothing"] = null,
        ["name"] = "World",
        ["flag"] = true,
        ["emoji"] = "a\U0001F600b",
        ["users"] = new[]
        {
            new Dictionary<string, object?> { ["name"] = "a", ["role"] = "user" },
            new Dictionary<string, object?> { ["name"] = "b", ["role"] = "assistant" },
            new Dictionary<string, object?> { ["name"] = "c", ["role"] = "user" },
        },
    };

    private static string Render(string template) => JinjaTemplate.Parse(template, "test").Render(Context);

    [Theory]
    [InlineData("a\n{% if true %}\nb\n{% endif %}\nc", "a\nb\nc")]
    [InlineData("  {% if true %}x{% endif %}", "x")]
    [InlineData("a  {% if true %}x{% endif %}", "a  x")]
    [InlineData("a {{- ' b ' -}} c", "a b c")]
    [InlineData("{{ 'x' }}\n", "x")]
    [InlineData("{{ 'x' }}\n\n", "x\n")]
    [InlineData("{{ 'a' }}\nb", "a\nb")]
    [InlineData("  {%+ if true %}x{% endif %}", "  x")]
    [InlineData("a\n  {# note #}\nb", "a\nb")]
    [InlineData("{% for i in [1,2] -%}\n  {{ i }}\n{%- endfor %}", "12")]
    [InlineData("a\r\n{% if true %}\r\nb{% endif %}", "a\nb")]
    public void Whitespace_Control_Should_Follow_Trim_And_Lstrip_Blocks(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ missing }}", "")]
    [InlineData("{{ missing is defined }}|{{ missing is undefined }}", "False|True")]
    [InlineData("{{ missing | default('fb') }}|{{ '' | default('fb') }}|{{ '' | default('fb', true) }}", "fb||fb")]
    [InlineData("{% for x in missing %}a{% else %}empty{% endfor %}", "empty")]
    [InlineData("{{ missing|length }}", "0")]
    [InlineData("{{ d.nope }}|{{ d.nope is defined }}|{{ nothing.attr }}", "|False|")]
    [InlineData("{{ [] or 'e' }}|{{ 0 or 'z' }}|{{ 'x' and 'y' }}|{{ none or 0 }}", "e|z|y|0")]
    public void Undefined_Values_Should_Print_Empty_And_Be_Falsy(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "103TrueFalse3;212FalseFalse3;321FalseTrue3;")]
    [InlineData("{% for i in [1,2,3,4] if i is even %}{{ i }}{{ loop.length }}{% endfor %}", "2242")]
    [InlineData("{% for i in [1,2,3,4] %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", "13")]
    [InlineData("{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", "231")]
    [InlineData("{% set ns = namespace(total=0) %}{% for i in [1,2,3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}", "6")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=2;a=1;")]
    [InlineData("{% for k in d %}{{ k }}{% endfor %}", "ba")]
    [InlineData("{% for i in items %}{{ loop.previtem|default('-') }}{% endfor %}", "-xy")]
    [InlineData("{% for i in items %}{{ loop.cycle('a','b') }}{% endfor %}", "aba")]
    [InlineData("{% set b %}hi {{ name }}{% endset %}[{{ b }}]", "[hi World]")]
    [InlineData("{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %}", "mid")]
    [InlineData("{{ 'y' if flag else 'n' }}|{{ 'y' if not flag else 'n' }}|{{ 'y' if false }}", "y|n|")]
    [InlineData("{% generation %}x{% endgeneration %}", "x")]
    public void Loops_And_Scopes_Should_Behave_As_In_Jinja2(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", "3 -4 2 3.5 2.0 1024 7 9")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true }}", "a1NoneTrue")]
    [InlineData("{{ 'ab' * 3 }}", "ababab")]
    [InlineData("{{ [1] + [2] }}", "[1, 2]")]
    [InlineData("{{ 'b' in 'abc' }} {{ 'z' not in items }} {{ 'a' in d }} {{ 1 in [1.0] }}", "True False True True")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", "True False")]
    [InlineData("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1,2] == [1,2] }} {{ {'a':1} == {'a':1} }} {{ 'a' != 'b' }}", "True True True True True")]
    public void Operators_Should_Follow_Python_Semantics(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ s[1:] }}|{{ s[:2] }}|{{ s[:-1] }}|{{ s[::-1] }}|{{ s[::2] }}|{{ s[-2:] }}|{{ s[4:2] }}|{{ items[-1] }}|{{ items[1:]|join(',') }}", "bcdef|ab|abcde|fedcba|ace|ef||z|y,z")]
    [InlineData("{{ emoji|length }}|{{ emoji[1] }}|{{ emoji[::-1] }}", "3|😀|b😀a")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }}", "[1, 'a', None, True, 1.5]")]
    [InlineData("{{ {'k': \"it's\"} }}", "{'k': \"it's\"}")]
    [InlineData("{{ (1,) }}", "(1,)")]
    [InlineData("{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 2.0 }} {{ 1.5e16 }} {{ 123.456 }}", "1e+20 0.30000000000000004 1e-05 2.0 1.5e+16 123.456")]
    [InlineData("{{ 'a\\tb' }}|{{ \"it's\" }}|{{ 'a' 'b' }}|{{ '\\d' }}", "a\tb|it's|ab|\\d")]
    [InlineData("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}")]
    public void Values_Should_Print_And_Slice_Like_Python(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ ' a b '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x','lo')) }}|{{ 'aaa'.replace('a','b',2) }}|{{ 'hello world'.title() }}|{{ '{} and {name}'.format(1, name='x') }}|{{ ', '.join(items) }}", "a b|a|['a', 'b', 'c']|['a', 'b']|['a,b', 'c']|True|True|bba|Hello World|1 and x|x, y, z")]
    [InlineData("{{ d.get('a') }}|{{ d.get('z', 'no') }}|{{ d.keys()|list }}|{{ d.values()|list }}|{{ d['b'] }}", "1|no|['b', 'a']|[2, 1]|2")]
    public void String_And_Dict_Methods_Should_Follow_Python(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ '  hi  '|trim }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello world-foo'|title }}|{{ 'hELLO'|capitalize }}|{{ 'aXa'|replace('a','b') }}|{{ items|first }}|{{ items|last }}|{{ items|length }}|{{ [3,1,2]|sort }}|{{ ['b','A','a']|unique|list }}|{{ '42'|int + 1 }}|{{ '2.5'|float }}|{{ -3|abs }}|{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ d|items|list }}|{{ 'one two  three'|wordcount }}|{{ [1,2,3]|sum }}|{{ [3,1,2]|max }}", "hi|AB|ab|Hello World-Foo|Hello|bXb|x|z|3|[1, 2, 3]|['b', 'A']|43|2.5|3|2.0|3.14|[('b', 2), ('a', 1)]|3|6|3")]
    [InlineData("{{ users|selectattr('role','equalto','user')|map(attribute='name')|join(',') }}|{{ users|rejectattr('role','equalto','user')|map(attribute='name')|list }}|{{ users|map(attribute='missing', default='?')|join }}|{{ [1,2,3,4]|select('odd')|list }}|{{ ['a','b']|map('upper')|join }}", "a,c|['b']|???|[1, 3]|AB")]
    [InlineData("{{ {'b': 1, 'a': [1, 2.0, 'é\\\"\\n']}|tojson }}", "{\"b\": 1, \"a\": [1, 2.0, \"é\\\"\\n\"]}")]
    [InlineData("{{ {'a': {'b': []}}|tojson(indent=2) }}", "{\n  \"a\": {\n    \"b\": []\n  }\n}")]
    [InlineData("{{ {'b':1,'a':2}|tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ 'é'|tojson(ensure_ascii=true) }}", "\"\\u00e9\"")]
    [InlineData("{{ {'a': 1}|tojson(separators=(',', ':')) }}", "{\"a\":1}")]
    [InlineData("{{ 'a\\nb'|indent(2) }}", "a\n  b")]
    public void Filters_Should_Match_Jinja2(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ n is number }}{{ s is string }}{{ d is mapping }}{{ nothing is none }}{{ items is sequence }}{{ n is integer }}{{ 1.5 is float }}{{ flag is true }}{{ flag is false }}{{ 3 is odd }}{{ 4 is even }}{{ 6 is divisibleby(3) }}{{ 'a' is in items }}{{ 'x' is in items }}", "TrueTrueTrueTrueTrueTrueTrueTrueFalseTrueTrueTrueFalseTrue")]
    [InlineData("{{ s is not string }}|{{ n is equalto 7 }}", "False|True")]
    [InlineData("{{ range(3)|list }}|{{ range(1, 7, 2)|join(',') }}|{{ dict(a=1)['a'] }}", "[0, 1, 2]|1,3,5|1")]
    [InlineData("{{ strftime_now is defined }}|{{ raise_exception is defined }}", "True|True")]
    public void Tests_And_Globals_Should_Match_Jinja2(string template, string expected) => Assert.Equal(expected, Render(template));
    [Theory]
    [InlineData("{% set g = items|map('upper') %}{{ g|join }}|{{ g|join }}", "XYZ|")]
    [InlineData("{{ 'yes' if items|select('equalto', 'q') else 'no' }}", "yes")]
    [InlineData("{{ nothing|select|list }}|{{ items|reverse|join }}|{{ items|unique|list|length }}", "[]|zyx|3")]
    [InlineData("{{ d.items() }}|{{ d.keys() }}|{{ d.values()|list }}|{{ d.items()|length }}", "dict_items([('b', 2), ('a', 1)])|dict_keys(['b', 'a'])|[2, 1]|2")]
    [InlineData("{{ '\u00df'|upper }}|{{ '\u039f\u0394\u039f\u03a3 \u03a3\u0391'|lower }}|{{ '\u01c6emal'|capitalize }}|{{ '\ufb01sh'|title }}", "SS|\u03bf\u03b4\u03bf\u03c2 \u03c3\u03b1|\u01c5emal|FIsh")]
    [InlineData("{{ 2.675|round(2) }}|{{ 0.125|round(2) }}|{{ 0.375|round(2) }}|{{ -0.5|round }}", "2.67|0.12|0.38|-0.0")]
    [InlineData("{{ -2 % 2.0 }}|{{ 2 % -3 }}|{{ 7.5 // -2 }}", "0.0|-1|-4.0")]
    [InlineData("{{ 1.0.real }}|{{ n.imag }}", "1.0|0")]
    [InlineData("{{ range(3) }}|{{ range(1, 7, 2) }}|{{ range(3) == [0, 1, 2] }}|{{ range(5)[-1] }}|{{ 2 in range(3) }}", "range(0, 3)|range(1, 7, 2)|False|4|True")]
    public void Python_Corner_Cases_Should_Match_Jinja2(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void StrftimeNow_Should_Format_The_Clock_With_Python_Directives()
    {
        var template = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %B %j %y %H:%M:%S %I%p %%') }}", "date");
        var rendered = template.Render(new Dictionary<string, object?>(), () => new DateTime(2024, 7, 26, 9, 5, 3));
        Assert.Equal("26 Jul 2024|Friday July 208 24 09:05:03 09AM %", rendered);
    }

    [Fact]
    public void Llama32_Template_Should_Take_Todays_Date_From_StrftimeNow_When_No_Date_Is_Given()
    {
        var source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Text", "Templates", "Fixtures", "llama-3.2-instruct.jinja"));
        var template = JinjaTemplate.Parse(source, "llama-3.2");
        var context = new Dictionary<string, object?>
        {
            ["messages"] = new[] { new Distill.Text.ChatMessage("user", "Hi") },
            ["add_generation_prompt"] = false,
            ["tools"] = null,
            ["bos_token"] = "<|begin_of_text|>",
        };
        var rendered = template.Render(context, () => new DateTime(2025, 2, 3));
        Assert.Contains("Today Date: 03 Feb 2025\n", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Should_Not_Change_The_Callers_Data()
    {
        var messages = new List<Dictionary<string, object?>> { new() { ["role"] = "user", ["content"] = "Hi" } };
        var template = JinjaTemplate.Parse("{% set messages = messages[1:] %}{{ messages|length }}", "copy");
        Assert.Equal("0", template.Render(new Dictionary<string, object?> { ["messages"] = messages }));
        Assert.Single(messages);
    }

    [Fact]
    public void Template_Should_Render_Repeatedly_With_Fresh_State()
    {
        var template = JinjaTemplate.Parse("{% set ns = namespace(n=0) %}{% for i in items %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", "state");
        var context = new Dictionary<string, object?> { ["items"] = new[] { 1, 2, 3, 4, 5 } };
        Assert.Equal("5", template.Render(context));
        Assert.Equal("5", template.Render(context));
    }
}
