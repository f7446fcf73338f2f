using System.Text.Json;
using Distill.Text.Templates;
using Distill.Text.Tokenization;

namespace Distill.Text.Conversations;

/// <summary>
/// Tokenizes conversations for one model the way Hugging Face's
/// <c>apply_chat_template(tokenize=True)</c> does — render with the chat template and the tokenizer's
/// special tokens, then encode without adding special tokens the text already has — and adds the
/// loss mask over the assistant's tokens (see <see cref="ExampleBuilder"/>).
/// </summary>
public sealed class ChatTokenizer
{
    // End-of-turn tokens of common chat formats; a model's own is used when its vocabulary has it.
    private static readonly string[] KnownEndOfTurn =
    [
        "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "</s>",
        "<|END_OF_TURN_TOKEN|>", "<|return|>",
    ];

    private readonly Dictionary<string, object?> _specialTokens;
    private readonly ExampleBuilder _builder;

    /// <summary>
    /// A chat tokenizer over a loaded tokenizer and template. The end-of-turn markers are the
    /// options' own, the tokenizer's EOS, <paramref name="extraEndOfTurn"/> and the known end-of-turn
    /// tokens present in the vocabulary.
    /// </summary>
    public ChatTokenizer(HfTokenizer tokenizer, ChatTemplate template, ExampleOptions? options = null, IEnumerable<string>? extraEndOfTurn = null)
    {
        Tokenizer = tokenizer;
        Template = template;
        _specialTokens = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["bos_token"] = tokenizer.BosToken,
            ["eos_token"] = tokenizer.EosToken,
            ["pad_token"] = tokenizer.PadToken,
            ["unk_token"] = tokenizer.UnkToken,
        };
        options ??= ExampleOptions.Default;
        IEnumerable<string?> markers =
            [.. options.Markers, tokenizer.EosToken, .. extraEndOfTurn ?? [], .. KnownEndOfTurn.Where(t => tokenizer.TokenToId(t) is not null)];
        Options = options with { EndOfTurnMarkers = markers.OfType<string>().Where(m => m.Length > 0).Distinct().ToList() };
        _builder = new ExampleBuilder(Render, Encode, Options);
    }

    /// <summary>The tokenizer.</summary>
    public HfTokenizer Tokenizer { get; }

    /// <summary>The chat template.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The options in use, with the end-of-turn markers filled in.</summary>
    public ExampleOptions Options { get; }

    /// <summary>
    /// Loads a model folder's tokenizer and its chat template, or the built-in template
    /// <paramref name="chatFormat"/> ("chatml", "llama3", ...) instead when given. The EOS ids of
    /// generation_config.json, if present, also count as end-of-turn tokens.
    /// </summary>
    public static ChatTokenizer Load(string modelDir, string? chatFormat = null, ExampleOptions? options = null)
    {
        var tokenizer = HfTokenizer.Load(modelDir);
        ChatTemplate template;
        if (chatFormat is not null)
            template = ChatTemplate.BuiltIn(chatFormat);
        else if (tokenizer.ChatTemplate is { } source)
            template = ChatTemplate.Parse(source, Path.Combine(modelDir, "tokenizer_config.json"));
        else
            throw new InvalidDataException(
                $"{modelDir}: the tokenizer has no chat_template; choose a built-in one ({string.Join(", ", ChatTemplate.BuiltInFormats)})");
        return new ChatTokenizer(tokenizer, template, options, GenerationEosTokens(modelDir, tokenizer));
    }

    /// <summary>Renders messages with the template and the tokenizer's special tokens.</summary>
    /// <exception cref="InvalidDataException">The template refused the conversation (e.g. roles out of order).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        try
        {
            return Template.Render(messages, addGenerationPrompt, _specialTokens);
        }
        catch (TemplateRenderException e)
        {
            throw new InvalidDataException($"chat template: {e.RaisedMessage ?? e.Message}", e);
        }
    }

    /// <summary>
    /// Encodes rendered text. Templates that write the BOS token themselves would get a second one
    /// from the tokenizer's post-processor, so then no special tokens are added.
    /// </summary>
    public Encoding Encode(string rendered)
    {
        var hasBos = Tokenizer.BosToken is { Length: > 0 } bos && rendered.StartsWith(bos, StringComparison.Ordinal);
        return Tokenizer.Encode(rendered, addSpecialTokens: !hasBos);
    }

    /// <inheritdoc cref="ExampleBuilder.Build"/>
    public TokenizedExample Build(Conversation conversation) => _builder.Build(conversation);

    /// <inheritdoc cref="ExampleBuilder.Inspect"/>
    public InspectedExample Inspect(Conversation conversation) => _builder.Inspect(conversation);

    /// <inheritdoc cref="ExampleBuilder.BuildAll"/>
    public IEnumerable<TokenizedExample> BuildAll(IEnumerable<Conversation> conversations, ICollection<BadLine>? skipped = null) =>
        _builder.BuildAll(conversations, skipped);

    /// <inheritdoc cref="ExampleBuilder.InspectAll"/>
    public IEnumerable<InspectedExample> InspectAll(IEnumerable<Conversation> conversations, ICollection<BadLine>? skipped = null) =>
        _builder.InspectAll(conversations, skipped);

    // Instruct models often stop on several ids (Llama 3: <|end_of_text|>, <|eom_id|>, <|eot_id|>),
    // listed only in generation_config.json.
    private static List<string> GenerationEosTokens(string modelDir, HfTokenizer tokenizer)
    {
        var path = Path.Combine(modelDir, "generation_config.json");
        if (!File.Exists(path))
            return [];
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("eos_token_id", out var eos))
                return [];
            var ids = eos.ValueKind switch
            {
                JsonValueKind.Number => [eos.GetInt32()],
                JsonValueKind.Array => eos.EnumerateArray().Select(e => e.GetInt32()).ToList(),
                JsonValueKind.Null => [],
                _ => throw new InvalidDataException($"{path}: \"eos_token_id\" must be an id or a list of ids"),
            };
            return ids.Select(tokenizer.IdToToken).OfType<string>().ToList();
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: cannot read \"eos_token_id\": {e.Message}", e);
        }
    }
}
