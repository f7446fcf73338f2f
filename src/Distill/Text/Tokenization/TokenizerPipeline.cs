using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// Hugging Face's encode path for one sequence: added tokens are cut out of the raw text, the rest
/// is normalized, cut again at normalized added tokens, pre-tokenized into words and each word
/// run through the model; every token keeps its span in the caller's string.
/// </summary>
internal sealed class TokenizerPipeline
{
    private static readonly HashSet<string> LlamaTokenizerClasses =
        ["LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"];

    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;

    private TokenizerPipeline(INormalizer? normalizer, IPreTokenizer? preTokenizer, IPostProcessor? postProcessor,
        IDecoder? decoder, IReadOnlyList<AddedToken> added)
    {
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        PostProcessor = postProcessor;
        Decoder = decoder;
        var normalizedPatterns = new List<(string, AddedToken)>();
        var contents = new Dictionary<int, string>();
        foreach (var token in added.Where(t => t.Normalized))
        {
            string pattern = normalizer?.Normalize(NormalizedText.Original(token.Content, 0)).Text ?? token.Content;
            normalizedPatterns.Add((pattern, token));
            if (pattern != token.Content)
                contents[token.Id] = pattern;
        }
        NormalizedAddedContents = contents;
        _rawMatcher = new AddedTokenMatcher(added.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(normalizedPatterns);
    }

    public IPostProcessor? PostProcessor { get; }

    public IDecoder? Decoder { get; }

    /// <summary>Added tokens whose normalized form differs from their content: id → normalized form.</summary>
    public IReadOnlyDictionary<int, string> NormalizedAddedContents { get; }

    public static TokenizerPipeline Read(JsonSource source, JsonElement root, BpeModel model,
        IReadOnlyList<AddedToken> added, TokenizerConfig config, Func<string, int?> tokenToId)
    {
        var reader = new ComponentReader(source, tokenToId);
        var postProcessor = reader.PostProcessor(source.OptionalObject(root, "post_processor", ""), "post_processor");
        if (config.TokenizerClass is { } cls && LlamaTokenizerClasses.Contains(cls))
            postProcessor = LlamaTemplate(config, tokenToId);
        return new TokenizerPipeline(
            reader.Normalizer(source.OptionalObject(root, "normalizer", ""), "normalizer"),
            reader.PreTokenizer(source.OptionalObject(root, "pre_tokenizer", ""), "pre_tokenizer"),
            postProcessor,
            reader.Decoder(source.OptionalObject(root, "decoder", ""), "decoder"),
            added);
    }

    /// <summary>
    /// transformers' Llama/Gemma fast tokenizers rebuild the template from tokenizer_config.json's
    /// add_bos_token (default true) and add_eos_token (default false), overriding tokenizer.json.
    /// </summary>
    private static TemplatePostProcessor LlamaTemplate(TokenizerConfig config, Func<string, int?> tokenToId)
    {
        var pieces = new List<int[]?>();
        if (config.AddBosToken ?? true)
            pieces.Add([RequireId(config.BosToken, "bos_token", "add_bos_token", tokenToId)]);
        pieces.Add(null);
        if (config.AddEosToken ?? false)
            pieces.Add([RequireId(config.EosToken, "eos_token", "add_eos_token", tokenToId)]);
        return new TemplatePostProcessor(pieces);
    }

    private static int RequireId(string? token, string key, string flag, Func<string, int?> tokenToId)
    {
        if (token is not null && tokenToId(token) is { } id)
            return id;
        throw new InvalidDataException($"tokenizer_config.json: '{key}' ('{token}') is not a known token but '{flag}' asks for it");
    }

    /// <summary>Tokens of <paramref name="text"/> with offsets into it, before post-processing.</summary>
    public List<TokenSpan> Tokenize(string text, BpeModel model)
    {
        var tokens = new List<TokenSpan>();
        if (text.Length == 0)
            return tokens;
        var pieces = new List<(NormalizedText Piece, int TokenId)>();
        Cut(_rawMatcher, NormalizedText.Original(text, 0), pieces);
        var inner = new List<(NormalizedText Piece, int TokenId)>();
        var words = new List<NormalizedText>();
        var wordTokens = new List<TokenSpan>();
        foreach (var (piece, id) in pieces)
        {
            if (id >= 0)
            {
                AddWhole(piece, id, tokens);
                continue;
            }
            var normalized = _normalizer?.Normalize(piece) ?? piece;
            inner.Clear();
            Cut(_normalizedMatcher, normalized, inner);
            foreach (var (part, partId) in inner)
            {
                if (partId >= 0)
                    AddWhole(part, partId, tokens);
                else
                    TokenizeWords(part, model, words, wordTokens, tokens);
            }
        }
        return tokens;
    }

    private static void Cut(AddedTokenMatcher matcher, NormalizedText text, List<(NormalizedText, int)> output)
    {
        if (text.Length == 0)
            return;
        if (matcher.IsEmpty)
            output.Add((text, -1));
        else
            matcher.Split(text, output);
    }

    private static void AddWhole(NormalizedText piece, int id, List<TokenSpan> tokens)
    {
        var (start, end) = piece.OriginalSpan(0, piece.Length);
        tokens.Add(new TokenSpan(id, start, end));
    }

    private void TokenizeWords(NormalizedText part, BpeModel model, List<NormalizedText> words,
        List<TokenSpan> wordTokens, List<TokenSpan> tokens)
    {
        words.Clear();
        if (_preTokenizer is null)
            words.Add(part);
        else
            _preTokenizer.PreTokenize(part, words);
        foreach (var word in words)
        {
            wordTokens.Clear();
            model.Tokenize(word.Text, wordTokens);
            foreach (var t in wordTokens)
            {
                var (start, end) = word.OriginalSpan(t.Start, t.End);
                tokens.Add(new TokenSpan(t.Id, start, end));
            }
        }
    }
}
