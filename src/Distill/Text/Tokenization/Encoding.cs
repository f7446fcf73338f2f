namespace Distill.Text.Tokenization;

/// <summary>
/// The result of <see cref="HfTokenizer.Encode"/>: token ids and, per token, the UTF-16 range
/// [Start, End) of the input string it came from. Template tokens (BOS/EOS) have (0, 0); every
/// byte-fallback token of one character carries that whole character's range.
/// </summary>
public sealed record Encoding(int[] Ids, (int Start, int End)[] Offsets);

/// <summary>A token id with the UTF-16 range [Start, End) it covers, in whatever text the stage works on.</summary>
internal readonly record struct TokenSpan(int Id, int Start, int End);
