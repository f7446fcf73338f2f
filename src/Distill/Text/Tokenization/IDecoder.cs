namespace Distill.Text.Tokenization;

/// <summary>A tokenizer.json decoder step: maps the token strings to new strings, which are finally concatenated.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}
