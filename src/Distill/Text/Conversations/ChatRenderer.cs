namespace Distill.Text.Conversations;

/// <summary>
/// Renders messages to the model's prompt text, as a chat template does; with
/// <paramref name="addGenerationPrompt"/> the header that opens an assistant turn is appended.
/// </summary>
public delegate string ChatRenderer(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
