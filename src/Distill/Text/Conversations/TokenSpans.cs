namespace Distill.Text.Conversations;

/// <summary>Token ids of a text and, per token, the character range [Start, End) it came from.</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="Offsets">Character offsets into the encoded text, one per id; special tokens added by the tokenizer (not in the text) have an empty range.</param>
public sealed record TokenSpans(int[] Ids, (int Start, int End)[] Offsets);

/// <summary>Encodes a whole rendered conversation into token ids with character offsets.</summary>
public delegate TokenSpans TextTokenizer(string text);
