namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json post-processor: adds template tokens and/or adjusts offsets of an encoded sequence.</summary>
internal interface IPostProcessor
{
    /// <param name="tokens">Token ids with offsets into the caller's string; edited in place.</param>
    /// <param name="addSpecialTokens">Whether template tokens (BOS, EOS) are wanted.</param>
    /// <param name="idToToken">The tokenizer's id → token string map.</param>
    void Process(List<TokenSpan> tokens, bool addSpecialTokens, Func<int, string?> idToToken);
}
