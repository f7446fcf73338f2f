namespace Distill.Text.Conversations;

/// <summary>One conversation read from a data file, with where it came from for error messages.</summary>
/// <param name="Messages">The turns in order, with Hugging Face role names.</param>
/// <param name="SourceFile">The file (or other source name) it was read from.</param>
/// <param name="Line">The 1-based line number in <paramref name="SourceFile"/>.</param>
public sealed record Conversation(IReadOnlyList<ChatMessage> Messages, string SourceFile, int Line)
{
    /// <summary>"file:line", the prefix of every error message about this conversation.</summary>
    public string Location => $"{SourceFile}:{Line}";
}

/// <summary>The JSONL conversation layouts the reader understands.</summary>
public enum ConversationFormat
{
    /// <summary>Decide per line from the keys present: "messages", "conversations" or "prompt"/"completion".</summary>
    Auto,

    /// <summary>Hugging Face chat: <c>{"messages": [{"role": "user", "content": "..."}, ...]}</c>.</summary>
    Messages,

    /// <summary>NeMo / NeMo-Aligner chat: <c>{"system": "...", "conversations": [{"from": "User", "value": "..."}], "mask": "User"}</c>.</summary>
    NeMo,

    /// <summary>Prompt-completion pairs: <c>{"prompt": "...", "completion": "..."}</c>; either side may also be a list of messages.</summary>
    PromptCompletion,
}
