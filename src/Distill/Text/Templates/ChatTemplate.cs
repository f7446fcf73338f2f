namespace Distill.Text.Templates;

/// <summary>
/// A model's chat template, rendered as Hugging Face transformers'
/// <c>apply_chat_template(messages, tokenize=False, add_generation_prompt=...)</c> renders it: the template sees
/// <c>messages</c>, <c>add_generation_prompt</c>, <c>tools</c> and <c>documents</c> (None unless given), and every
/// extra variable, such as the tokenizer's special tokens (<c>bos_token</c>, <c>eos_token</c>, ...) or
/// <c>enable_thinking</c>.
/// </summary>
public sealed class ChatTemplate
{
    private ChatTemplate(JinjaTemplate template) => Template = template;

    /// <summary>The underlying template, for rendering with an arbitrary context.</summary>
    public JinjaTemplate Template { get; }

    /// <summary>The template name used in error messages.</summary>
    public string Name => Template.Name;

    /// <summary>The template source.</summary>
    public string Source => Template.Source;

    /// <summary>Names accepted by <see cref="BuiltIn"/>.</summary>
    public static IReadOnlyList<string> BuiltInFormats { get; } = [.. BuiltInChatTemplates.Sources.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Parses a chat template; syntax errors raise <see cref="InvalidDataException"/> with line and column.</summary>
    public static ChatTemplate Parse(string source, string name = "chat_template") => new(JinjaTemplate.Parse(source, name));

    /// <summary>
    /// A named fallback for model folders without a template: "chatml", "llama3", "llama2", "mistral" or "zephyr".
    /// </summary>
    public static ChatTemplate BuiltIn(string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (!BuiltInChatTemplates.Sources.TryGetValue(format, out var source))
        {
            throw new ArgumentException($"Unknown built-in chat template '{format}'; known: {string.Join(", ", BuiltInFormats)}", nameof(format));
        }
        return Parse(source, format);
    }

    /// <summary>Renders role/content turns; the template may raise <see cref="TemplateRenderException"/> (e.g. roles out of order).</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extraContext = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RenderValues(messages.Select(m => (object?)ValueConverter.Message(m.Role, m.Content)).ToList(), addGenerationPrompt, extraContext);
    }

    /// <summary>
    /// Renders messages given as dictionaries, which may carry fields beyond role and content
    /// (reasoning_content, tool_calls, tool_call_id, ...).
    /// </summary>
    public string Render(IReadOnlyList<IReadOnlyDictionary<string, object?>> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extraContext = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RenderValues(messages.Select(m => ValueConverter.ToValue(m)).ToList(), addGenerationPrompt, extraContext);
    }

    private string RenderValues(List<object?> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extraContext)
    {
        var context = new Dictionary<string, object?>(StringComparer.Ordinal) { ["tools"] = null, ["documents"] = null };
        foreach (var (key, value) in extraContext ?? new Dictionary<string, object?>())
        {
            if (key is "messages" or "add_generation_prompt") throw new ArgumentException($"'{key}' is set by Render itself, not by extraContext", nameof(extraContext));
            context[key] = value;
        }
        context["messages"] = messages;
        context["add_generation_prompt"] = addGenerationPrompt;
        return Template.Render(context);
    }
}
