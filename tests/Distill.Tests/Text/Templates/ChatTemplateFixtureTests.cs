using System.Text.Json;
using Distill.Text;
using Distill.Text.Templates;

namespace Distill.Tests.Text;

/// <summary>
/// Real model templates rendered by Distill must equal, byte for byte, what Jinja2 rendered with transformers'
/// settings (Fixtures/render_fixtures.py wrote the expected outputs).
/// </summary>
public sealed class ChatTemplateFixtureTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Text", "Templates", "Fixtures");

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in Directory.GetFiles(FixtureDir, "*.expected.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var count = doc.RootElement.GetProperty("cases").GetArrayLength();
            for (var i = 0; i < count; i++) data.Add(Path.GetFileName(file), i);
        }
        return data;
    }

    [Fact]
    public void Fixtures_Should_Cover_Every_Requested_Model_Family()
    {
        var names = Directory.GetFiles(FixtureDir, "*.expected.json").Select(Path.GetFileName).ToHashSet();
        foreach (var family in new[] { "llama-3.1-instruct", "llama-3.2-instruct", "qwen2.5-instruct", "qwen3", "mistral-v0.2-instruct",
                                       "mistral-v0.3-instruct", "llama-2-chat", "smollm2-instruct", "tinyllama-chat" })
        {
            Assert.Contains(family + ".expected.json", names);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_Should_Match_Jinja2_Output(string fixture, int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, fixture)));
        var root = doc.RootElement;
        var source = File.ReadAllText(Path.Combine(FixtureDir, root.GetProperty("template").GetString()!));
        var c = root.GetProperty("cases")[index];
        var template = JinjaTemplate.Parse(source, fixture);

        var context = new Dictionary<string, object?>();
        foreach (var token in root.GetProperty("special_tokens").EnumerateObject()) context[token.Name] = token.Value.GetString();
        foreach (var kw in c.GetProperty("kwargs").EnumerateObject()) context[kw.Name] = kw.Value;
        context["messages"] = c.GetProperty("messages");
        context["tools"] = c.GetProperty("kwargs").TryGetProperty("tools", out var tools) ? tools : null;
        context["documents"] = null;
        context["add_generation_prompt"] = c.GetProperty("add_generation_prompt").GetBoolean();

        if (c.TryGetProperty("error", out var error))
        {
            var ex = Assert.Throws<TemplateRenderException>(() => template.Render(context));
            Assert.Equal(error.GetString(), ex.RaisedMessage);
            Assert.Equal(fixture, ex.TemplateName);
            return;
        }
        var expected = c.GetProperty("expected").GetString();
        Assert.Equal(expected, template.Render(context));
        if (PlainMessages(c) is { } messages) Assert.Equal(expected, RenderThroughChatTemplate(source, root, c, messages));
    }

    // Cases made only of role/content strings also go through ChatTemplate.Render with ChatMessage records.
    private static List<ChatMessage>? PlainMessages(JsonElement c)
    {
        if (c.GetProperty("kwargs").TryGetProperty("tools", out _)) return null;
        var list = new List<ChatMessage>();
        foreach (var m in c.GetProperty("messages").EnumerateArray())
        {
            if (m.EnumerateObject().Count() != 2 || m.GetProperty("content").ValueKind != JsonValueKind.String) return null;
            list.Add(new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!));
        }
        return list;
    }

    private static string RenderThroughChatTemplate(string source, JsonElement root, JsonElement c, List<ChatMessage> messages)
    {
        var extra = new Dictionary<string, object?>();
        foreach (var token in root.GetProperty("special_tokens").EnumerateObject()) extra[token.Name] = token.Value.GetString();
        foreach (var kw in c.GetProperty("kwargs").EnumerateObject()) extra[kw.Name] = kw.Value;
        return ChatTemplate.Parse(source).Render(messages, c.GetProperty("add_generation_prompt").GetBoolean(), extra);
    }
}
