using Distill.Text.Tokenization;

namespace Distill.Text.Conversations;

/// <summary>Encodes a whole rendered conversation into token ids with per-token character offsets.</summary>
public delegate Encoding TextTokenizer(string text);
