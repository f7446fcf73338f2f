using Distill.Text;

namespace Distill.Tests.Text.Conversations;

/// <summary>Hand-written C# renderings of well-known chat templates, standing in for Jinja ones.</summary>
internal static class FakeTemplates
{
    public static string ChatMl(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(messages.Select(m => $"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n"))
        + (addGenerationPrompt ? "<|im_start|>assistant\n" : "");

    public static string Llama3(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        "<|begin_of_text|>"
        + string.Concat(messages.Select(m => $"<|start_header_id|>{m.Role}<|end_header_id|>\n\n{m.Content.Trim()}<|eot_id|>"))
        + (addGenerationPrompt ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "");

    /// <summary>Like Qwen3: assistant turns before the last user turn lose their "&lt;think&gt;" part.</summary>
    public static string Reasoning(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var lastUser = messages.Select((m, i) => (m, i)).LastOrDefault(p => p.m.Role == "user").i;
        var shown = messages.Select((m, i) => m.Role == "assistant" && i < lastUser && m.Content.Contains("</think>", StringComparison.Ordinal)
            ? m with { Content = m.Content[(m.Content.LastIndexOf("</think>", StringComparison.Ordinal) + 8)..].TrimStart('\n') }
            : m).ToList();
        return ChatMl(shown, addGenerationPrompt);
    }

    /// <summary>Like Mistral's: the system prompt is written into the last user turn; no generation prompt.</summary>
    public static string Mistral(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var system = messages.FirstOrDefault(m => m.Role == "system")?.Content;
        var lastUser = messages.Select((m, i) => (m, i)).LastOrDefault(p => p.m.Role == "user").i;
        var text = "<s>";
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == "user")
                text += "[INST] " + (i == lastUser && system is not null ? system + "\n\n" : "") + m.Content + " [/INST]";
            else if (m.Role == "assistant")
                text += " " + m.Content + "</s>";
        }
        return text;
    }

    /// <summary>No special tokens at all: "User: ...\nAssistant: ...\n".</summary>
    public static string Plain(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(messages.Select(m => m.Role == "user" ? $"User: {m.Content}\n" : $"Assistant: {m.Content}\n"))
        + (addGenerationPrompt ? "Assistant: " : "");

    /// <summary>Counts the messages in a header and shouts the assistant's turns: no prefix of it is stable, and no answer appears as written.</summary>
    public static string Shouting(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        $"# {messages.Count} messages\n"
        + ChatMl(messages.Select(m => m.Role == "assistant" ? m with { Content = m.Content.ToUpperInvariant() } : m).ToList(), addGenerationPrompt);
}
