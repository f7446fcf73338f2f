using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Distill.Text;
using Distill.Text.Conversations;

namespace Distill.Synthetic;

/// <summary>One prompt to answer: its stable id and the messages the teacher continues.</summary>
/// <param name="Id">The line's own <c>"id"</c> when it has one, else "L{line}-{hash of the line}": the same on every rerun
/// of an unchanged file, and different for an edited line, so an edit is answered anew rather than taken as done.</param>
/// <param name="Messages">The conversation up to (not including) its last assistant turn, or all of it when it ends
/// with a user turn.</param>
/// <param name="Line">1-based line in the prompts file.</param>
public sealed record GenerationPrompt(string Id, IReadOnlyList<ChatMessage> Messages, int Line);

/// <summary>Reads a prompts file for <c>distill generate</c>.</summary>
public static class PromptFile
{
    /// <summary>Every prompt, in file order.</summary>
    /// <exception cref="InvalidDataException">A line is unusable or two lines share an id; the message names file and line.</exception>
    public static List<GenerationPrompt> Read(string path)
    {
        var prompts = new List<GenerationPrompt>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            GenerationPrompt prompt;
            try
            {
                var messages = ConversationParser.Parse(line, ConversationFormat.Auto, requireAssistant: false);
                prompt = new GenerationPrompt(Id(line, number), PromptPart(messages), number);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}:{number}: {e.Message}", e);
            }
            if (prompt.Messages.Count == 0) throw new InvalidDataException($"{path}:{number}: nothing before the assistant turn to prompt with");
            if (!seen.TryAdd(prompt.Id, number)) throw new InvalidDataException($"{path}:{number}: id \"{prompt.Id}\" is also on line {seen[prompt.Id]}");
            prompts.Add(prompt);
        }
        return prompts;
    }

    /// <summary>The messages a teacher continues: everything before the last assistant turn when the conversation ends
    /// with one (as <c>distill eval --generate</c> takes it), else the whole conversation.</summary>
    public static IReadOnlyList<ChatMessage> PromptPart(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0 || messages[^1].Role != "assistant") return messages;
        return messages.Take(messages.Count - 1).ToList();
    }

    private static string Id(string line, int number)
    {
        using var document = JsonDocument.Parse(line);
        if (document.RootElement.TryGetProperty("id", out var id))
        {
            if (id.ValueKind == JsonValueKind.String && id.GetString()!.Length > 0) return id.GetString()!;
            if (id.ValueKind == JsonValueKind.Number) return id.GetRawText();
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(line));
        return $"L{number}-{Convert.ToHexStringLower(hash)[..8]}";
    }
}
