namespace Distill.Text.Tokenization;

/// <summary>A token id with the UTF-16 range [Start, End) it covers, in whatever text the stage works on.</summary>
internal readonly record struct TokenSpan(int Id, int Start, int End);
