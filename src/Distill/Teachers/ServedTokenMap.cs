using System.Globalization;
using Distill.Serving;
using Distill.Text.Tokenization;

namespace Distill.Teachers;

/// <summary>
/// Maps the tokens an OpenAI-compatible server returns with log-probabilities to the student's token ids. A server
/// names a token in one of three ways: as <c>token_id:N</c> (vLLM's <c>return_tokens_as_token_ids</c>, also understood
/// by <c>distill serve</c>), by its exact bytes (the chat API's <c>bytes</c> field), or by its decoded text only (the
/// completions API). Bytes and text are looked up among the student's tokens by the bytes each stands for
/// (<see cref="TokenBytes"/>): a string that is no single student token, or the bytes of several, means the server's
/// tokenization is not the student's (or cannot be told apart from it), and is refused.
/// </summary>
public sealed class ServedTokenMap
{
    /// <summary>The prefix of a token named by id (vLLM's format).</summary>
    public const string TokenIdPrefix = "token_id:";

    private readonly Dictionary<string, int> _byBytes;
    private readonly Dictionary<string, List<int>> _ambiguous;
    private readonly int _vocab;

    private ServedTokenMap(Dictionary<string, int> byBytes, Dictionary<string, List<int>> ambiguous, int vocab)
    {
        _byBytes = byBytes;
        _ambiguous = ambiguous;
        _vocab = vocab;
    }

    /// <summary>The map of <paramref name="tokenizer"/>'s ids 0..<paramref name="vocabSize"/>−1 (one decode per id, once).</summary>
    public static ServedTokenMap For(HfTokenizer tokenizer, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var byBytes = new Dictionary<string, int>(StringComparer.Ordinal);
        var ambiguous = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var id = 0; id < vocabSize; id++)
        {
            if (tokenizer.IdToToken(id) is null) continue;
            var key = Key(TokenBytes.Of(tokenizer, id));
            if (ambiguous.TryGetValue(key, out var ids)) ids.Add(id);
            else if (byBytes.Remove(key, out var first)) ambiguous[key] = [first, id];
            else byBytes[key] = id;
        }
        return new ServedTokenMap(byBytes, ambiguous, vocabSize);
    }

    /// <summary>The vocabulary a served teacher's tokens are mapped into: <paramref name="folder"/>'s config.json <c>vocab_size</c>,
    /// else (a tokenizer-only folder) one past the tokenizer's largest id.</summary>
    public static int VocabOf(string folder, HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var config = Path.Combine(folder, Models.HfModelFolder.ConfigFile);
        if (File.Exists(config)) return Models.LlamaConfig.Load(config).VocabSize;
        return Math.Max(tokenizer.VocabSize, tokenizer.AddedTokens.Select(a => a.Id + 1).DefaultIfEmpty(0).Max());
    }

    /// <summary>
    /// The student id of a token the server returned as <paramref name="token"/> (and <paramref name="bytes"/> when it
    /// sent them); <paramref name="where"/> says where it was, for the error.
    /// </summary>
    /// <exception cref="InvalidDataException">The token is no student token, or several; names <paramref name="where"/> and the token.</exception>
    public int Resolve(string token, byte[]? bytes, string where)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.StartsWith(TokenIdPrefix, StringComparison.Ordinal))
        {
            if (int.TryParse(token.AsSpan(TokenIdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id < _vocab) return id;
            throw new InvalidDataException($"{where}: token '{token}' is outside the student's vocabulary of {_vocab}; the server's tokenization is not the student's");
        }
        var key = Key(bytes ?? System.Text.Encoding.UTF8.GetBytes(token));
        if (_byBytes.TryGetValue(key, out var found)) return found;
        if (_ambiguous.TryGetValue(key, out var several))
            throw new InvalidDataException($"{where}: token {Show(token)} is the text of several student tokens (ids {string.Join(", ", several.Take(5))}); " +
                $"ask the server for token ids (vLLM: return_tokens_as_token_ids) or its bytes");
        if (key.Length == 0)
            throw new InvalidDataException($"{where}: the server named a token by empty text and no bytes (an id outside its tokenizer, such as vocabulary " +
                "padding?); ask it for token ids (vLLM: return_tokens_as_token_ids; distill generate --server-token-ids)");
        throw new InvalidDataException($"{where}: token {Show(token)} is not one token of the student's tokenizer; the server's tokenization is not the student's");
    }

    // Bytes as a string of chars 0-255, a dictionary key that compares byte for byte.
    private static string Key(byte[] bytes) => System.Text.Encoding.Latin1.GetString(bytes);

    private static string Show(string token) => System.Text.Json.JsonSerializer.Serialize(token, Relaxed);

    // Messages show tokens as JSON strings (control characters escaped) without escaping '<', '>' or non-ASCII text.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
