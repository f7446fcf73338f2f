using System.Security.Cryptography;
using System.Text.Json;

namespace Distill.Text.Tokenization;

/// <summary>
/// A Hugging Face fast tokenizer loaded from a model folder (tokenizer.json, tokenizer_config.json,
/// special_tokens_map.json). Encodes to the same ids as the <c>tokenizers</c> library for byte-level
/// BPE (GPT-2, Llama 3, Qwen2, SmolLM2) and SentencePiece-style BPE with byte fallback (Llama 2,
/// Mistral, TinyLlama). Thread-safe.
/// </summary>
public sealed class HfTokenizer
{
    private readonly BpeModel _model;
    private readonly TokenizerPipeline _pipeline;
    private readonly Dictionary<int, AddedToken> _addedById = [];
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _addedDecodeContent = [];
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    private readonly TokenizerConfig _config;

    private HfTokenizer(BpeModel model, TokenizerPipeline pipeline, IReadOnlyList<AddedToken> added,
        TokenizerConfig config, string fingerprint)
    {
        _model = model;
        _pipeline = pipeline;
        _config = config;
        Fingerprint = fingerprint;
        AddedTokens = added;
        foreach (var token in added)
        {
            _addedById[token.Id] = token;
            _addedByContent[token.Content] = token.Id;
            if (token.Special)
                _specialContents.Add(token.Content);
        }
        foreach (var (id, content) in pipeline.NormalizedAddedContents)
            _addedDecodeContent[id] = content;
        VocabSize = model.VocabCount + _addedByContent.Keys.Count(c => model.TokenToId(c) is null);
    }

    /// <summary>Number of distinct tokens, model vocabulary plus added tokens (Python's <c>len(tokenizer)</c>).</summary>
    public int VocabSize { get; }

    /// <summary>The added tokens of tokenizer.json, in file order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    public string? BosToken => _config.BosToken;
    public int? BosTokenId => IdOf(_config.BosToken);
    public string? EosToken => _config.EosToken;
    public int? EosTokenId => IdOf(_config.EosToken);
    public string? PadToken => _config.PadToken;
    public int? PadTokenId => IdOf(_config.PadToken);
    public string? UnkToken => _config.UnkToken;
    public int? UnkTokenId => IdOf(_config.UnkToken);

    /// <summary>The Jinja chat template (the "default" one when the config lists several), or null.</summary>
    public string? ChatTemplate => _config.ChatTemplate;

    /// <summary>tokenizer_config.json's model_max_length, or null when absent or "unlimited".</summary>
    public int? ModelMaxLength => _config.ModelMaxLength;

    /// <summary>Lower-case hex SHA-256 of tokenizer.json's bytes followed by tokenizer_config.json's bytes.</summary>
    public string Fingerprint { get; }

    /// <summary>Loads the tokenizer files of a Hugging Face model folder.</summary>
    /// <exception cref="FileNotFoundException">The folder has no tokenizer.json.</exception>
    /// <exception cref="InvalidDataException">A file is not valid JSON or a key is missing or malformed (the message names both).</exception>
    /// <exception cref="NotSupportedException">The model, normalizer, pre-tokenizer, post-processor or decoder type is not supported.</exception>
    public static HfTokenizer Load(string modelDir)
    {
        string tokenizerPath = Path.Combine(modelDir, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
            throw new FileNotFoundException($"{tokenizerPath}: no tokenizer.json in the model folder", tokenizerPath);
        byte[] tokenizerBytes = File.ReadAllBytes(tokenizerPath);
        string configPath = Path.Combine(modelDir, "tokenizer_config.json");
        byte[] configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : [];
        string fingerprint = Convert.ToHexStringLower(SHA256.HashData([.. tokenizerBytes, .. configBytes]));

        var config = ReadConfig(modelDir, configPath, configBytes);
        var source = new JsonSource(tokenizerPath);
        using var document = JsonSource.Parse(tokenizerPath, tokenizerBytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw source.Error("(root)", "is not a JSON object");
        var model = BpeModelReader.Read(source, root);
        var added = ReadAddedTokens(source, root);
        int? TokenToIdDuringLoad(string token) =>
            added.FirstOrDefault(a => a.Content == token)?.Id ?? model.TokenToId(token);
        var pipeline = TokenizerPipeline.Read(source, root, model, added, config, TokenToIdDuringLoad);
        return new HfTokenizer(model, pipeline, added, config, fingerprint);
    }

    /// <summary>Encodes text; <paramref name="addSpecialTokens"/> applies the post-processor's template (e.g. BOS).</summary>
    public Encoding Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = _pipeline.Tokenize(text, _model);
        _pipeline.PostProcessor?.Process(tokens, addSpecialTokens, IdToToken);
        var ids = new int[tokens.Count];
        var offsets = new (int, int)[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            ids[i] = tokens[i].Id;
            offsets[i] = (tokens[i].Start, tokens[i].End);
        }
        return new Encoding(ids, offsets);
    }

    /// <summary>Decodes ids to text through the tokenizer's decoder; unknown ids are ignored, as in Hugging Face.</summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
        {
            if (IdToToken(id) is not { } token)
                continue;
            if (skipSpecialTokens && _specialContents.Contains(token))
                continue;
            tokens.Add(token);
        }
        if (_pipeline.Decoder is null)
            return string.Join(" ", tokens);
        return string.Concat(_pipeline.Decoder.DecodeChain(tokens));
    }

    /// <summary>True for ids of added tokens marked special (BOS, EOS, chat markers).</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var token) && token.Special;

    /// <summary>The id of a token string (added tokens first, then the model vocabulary).</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out int id) ? id : _model.TokenToId(token);

    /// <summary>The token string of an id (an added token's normalized form if it has one), or null.</summary>
    public string? IdToToken(int id)
    {
        if (_addedDecodeContent.TryGetValue(id, out string? normalized))
            return normalized;
        return _addedById.TryGetValue(id, out var token) ? token.Content : _model.IdToToken(id);
    }

    private int? IdOf(string? token) => token is null ? null : TokenToId(token);

    private static TokenizerConfig ReadConfig(string modelDir, string configPath, byte[] configBytes)
    {
        JsonDocument? map = null;
        string mapPath = Path.Combine(modelDir, "special_tokens_map.json");
        try
        {
            if (File.Exists(mapPath))
                map = JsonSource.Parse(mapPath, File.ReadAllBytes(mapPath));
            JsonElement? mapRoot = map?.RootElement.ValueKind == JsonValueKind.Object ? map.RootElement : null;
            TokenizerConfig config;
            if (configBytes.Length == 0)
            {
                using var empty = JsonDocument.Parse("{}");
                config = TokenizerConfig.Read(new JsonSource(configPath), empty.RootElement, mapRoot, new JsonSource(mapPath));
            }
            else
            {
                using var document = JsonSource.Parse(configPath, configBytes);
                config = TokenizerConfig.Read(new JsonSource(configPath), document.RootElement, mapRoot, new JsonSource(mapPath));
            }
            return config.ChatTemplate is null ? config with { ChatTemplate = StandaloneChatTemplate(modelDir) } : config;
        }
        finally
        {
            map?.Dispose();
        }
    }

    /// <summary>Newer transformers save the template beside the config as chat_template.jinja.</summary>
    private static string? StandaloneChatTemplate(string modelDir)
    {
        string jinja = Path.Combine(modelDir, "chat_template.jinja");
        return File.Exists(jinja) ? File.ReadAllText(jinja) : null;
    }

    private static List<AddedToken> ReadAddedTokens(JsonSource source, JsonElement root)
    {
        var added = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var array) || array.ValueKind == JsonValueKind.Null)
            return added;
        if (array.ValueKind != JsonValueKind.Array)
            throw source.Error("added_tokens", "is not an array");
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string path = $"added_tokens[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw source.Error(path, "is not an object");
            bool special = source.OptionalBool(item, "special", path, false);
            added.Add(new AddedToken(
                source.RequireInt(item, "id", path),
                source.RequireString(item, "content", path),
                source.OptionalBool(item, "single_word", path, false),
                source.OptionalBool(item, "lstrip", path, false),
                source.OptionalBool(item, "rstrip", path, false),
                source.OptionalBool(item, "normalized", path, !special),
                special));
        }
        return added;
    }
}
