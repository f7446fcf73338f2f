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
