namespace Distill.Text;

/// <summary>One turn of a conversation, with Hugging Face's role names ("system", "user", "assistant", "tool").</summary>
public sealed record ChatMessage(string Role, string Content);
