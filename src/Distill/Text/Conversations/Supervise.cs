namespace Distill.Text.Conversations;

/// <summary>Which assistant turns of a conversation are training targets.</summary>
public enum Supervise
{
    /// <summary>Every assistant turn (the usual SFT setting).</summary>
    All,

    /// <summary>Only the final assistant turn; earlier ones are context, like the user's turns.</summary>
    Last,
}
