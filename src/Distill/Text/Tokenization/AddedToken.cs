namespace Distill.Text.Tokenization;

/// <summary>
/// An entry of tokenizer.json's <c>added_tokens</c>: text matched as a whole before the model runs.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text of the token.</param>
/// <param name="SingleWord">Only match when not glued to a word character on either side.</param>
/// <param name="LStrip">Swallow whitespace on the left into the token.</param>
/// <param name="RStrip">Swallow whitespace on the right into the token.</param>
/// <param name="Normalized">Match in the normalized text (against the normalized content) instead of the raw text.</param>
/// <param name="Special">A control token: skipped by <c>Decode(skipSpecialTokens: true)</c>.</param>
public sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special);
