namespace Distill.Text.Conversations;

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
