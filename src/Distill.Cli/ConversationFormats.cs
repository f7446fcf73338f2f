using Distill.Text.Conversations;

namespace Distill.Cli;

/// <summary>The <c>--format</c> names of the commands that read chat JSONL.</summary>
internal static class ConversationFormats
{
    public static readonly IReadOnlyDictionary<string, ConversationFormat> ByName = new Dictionary<string, ConversationFormat>(StringComparer.Ordinal)
    {
        ["auto"] = ConversationFormat.Auto,
        ["messages"] = ConversationFormat.Messages,
        ["nemo"] = ConversationFormat.NeMo,
        ["prompt-completion"] = ConversationFormat.PromptCompletion,
    };

    /// <summary>The <c>--format</c> name of <paramref name="format"/>.</summary>
    public static string Name(ConversationFormat format) => ByName.Single(pair => pair.Value == format).Key;
}
