using System.Collections.Concurrent;
using System.Text;

namespace Distill.Text.Tokenization;

/// <summary>The flags of a tokenizer.json BPE model besides its vocabulary and merges.</summary>
internal sealed record BpeOptions(
    string? UnkToken,
    string? ContinuingSubwordPrefix,
    string? EndOfWordSuffix,
    bool FuseUnk,
    bool ByteFallback,
    bool IgnoreMerges);

/// <summary>
/// Hugging Face's BPE model: a word starts as one symbol per character (or per UTF-8 byte token
/// with byte fallback) and the adjacent pair with the lowest merge rank is merged until none is
/// left. Results are cached per word, since natural text repeats its words.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheCapacity = 50_000;
    private const int MaxCachedWordLength = 256;

    [ThreadStatic]
    private static MergeHeap? t_heap;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<int, string> _idToToken;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int[] _charIds;
    private readonly int[] _byteIds;
    private readonly BpeOptions _options;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly bool _splitAtMetaspace;
    private int _cacheCount;

    /// <param name="vocab">Token → id.</param>
    /// <param name="merges">Pair → (rank, id of the merged token), already validated against the vocabulary.</param>
    /// <param name="options">The model flags.</param>
    public BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int Rank, int NewId)> merges, BpeOptions options)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _options = options;
        _idToToken = new Dictionary<int, string>(vocab.Count);
        foreach (var (token, id) in vocab)
            _idToToken[id] = token;
        _charIds = new int[char.MaxValue + 1];
        Array.Fill(_charIds, -1);
        foreach (var (token, id) in vocab)
        {
            if (token.Length == 1 && !char.IsSurrogate(token[0]))
                _charIds[token[0]] = id;
        }
        _byteIds = new int[256];
        for (int b = 0; b < 256; b++)
            _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        _splitAtMetaspace = MetaspaceOnlyLeads(vocab, options);
    }

    public int VocabCount => _vocab.Count;

    /// <summary>
    /// The merge-table key of a pair. long's hash is (high ^ low), under which (a, b) and (b, a) and
    /// every pair with the same XOR collide; scrambling the right id (a bijection on 32 bits) keeps
    /// keys unique while spreading them over the buckets.
    /// </summary>
    public static long PairKey(int left, int right) => ((long)left << 32) | unchecked((uint)right * 0x9E3779B1u);

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);

    /// <summary>Appends the tokens of one pre-tokenized word.</summary>
    public void Tokenize(string word, List<TokenSpan> output)
    {
        if (_splitAtMetaspace && word.Length > 1)
            TokenizeMetaspaceWords(word, output);
        else
            TokenizeWord(word, output);
    }

    /// <summary>
    /// True when no token can span the boundary in front of a '▁' that follows another character:
    /// every token holding '▁' has it only as a leading run, and "▁" itself is a token (so it never
    /// joins an unknown or byte-fallback run). Llama 2's vocabulary qualifies; its files have no
    /// pre-tokenizer, so without this a whole paragraph would be one uncacheable word.
    /// </summary>
    private static bool MetaspaceOnlyLeads(Dictionary<string, int> vocab, BpeOptions options)
    {
        if (options.IgnoreMerges || options.ContinuingSubwordPrefix is not null || options.EndOfWordSuffix is not null
            || !vocab.ContainsKey("\u2581"))
            return false;
        foreach (string token in vocab.Keys)
        {
            int lead = 0;
            while (lead < token.Length && token[lead] == '\u2581')
                lead++;
            if (token.IndexOf('\u2581', lead) >= 0)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Tokenizes each "▁word" piece on its own. Exact under <see cref="MetaspaceOnlyLeads"/>: no merge
    /// joins symbols across such a boundary, and merges on one side never depend on the other.
    /// </summary>
    private void TokenizeMetaspaceWords(string word, List<TokenSpan> output)
    {
        int start = 0;
        for (int i = 1; i <= word.Length; i++)
        {
            if (i < word.Length && (word[i] != '\u2581' || word[i - 1] == '\u2581'))
                continue;
            if (start == 0 && i == word.Length)
            {
                TokenizeWord(word, output);
                return;
            }
            int first = output.Count;
            TokenizeWord(word[start..i], output);
            for (int k = first; k < output.Count; k++)
                output[k] = output[k] with { Start = output[k].Start + start, End = output[k].End + start };
            start = i;
        }
    }

    private void TokenizeWord(string word, List<TokenSpan> output)
    {
        if (word.Length == 0)
            return;
        if (_options.IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            output.Add(new TokenSpan(whole, 0, word.Length));
            return;
        }
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            Unpack(cached, output);
            return;
        }
        int first = output.Count;
        Merge(word, output);
        if (word.Length < MaxCachedWordLength && Volatile.Read(ref _cacheCount) < CacheCapacity
            && _cache.TryAdd(word, Pack(output, first)))
        {
            Interlocked.Increment(ref _cacheCount);
        }
    }

    private static int[] Pack(List<TokenSpan> tokens, int first)
    {
        var packed = new int[(tokens.Count - first) * 3];
        for (int i = first, j = 0; i < tokens.Count; i++, j += 3)
            (packed[j], packed[j + 1], packed[j + 2]) = (tokens[i].Id, tokens[i].Start, tokens[i].End);
        return packed;
    }

    private static void Unpack(int[] packed, List<TokenSpan> output)
    {
        for (int j = 0; j < packed.Length; j += 3)
            output.Add(new TokenSpan(packed[j], packed[j + 1], packed[j + 2]));
    }

    private void Merge(string word, List<TokenSpan> output)
    {
        var symbols = InitialSymbols(word);
        int n = symbols.Count;
        if (n == 0)
            return;
        var ids = new int[n];
        var starts = new int[n];
        var ends = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++)
        {
            (ids[i], starts[i], ends[i]) = (symbols[i].Id, symbols[i].Start, symbols[i].End);
            (prev[i], next[i]) = (i - 1, i + 1 < n ? i + 1 : -1);
        }
        var alive = new bool[n];
        Array.Fill(alive, true);
        var heap = t_heap ??= new MergeHeap();
        heap.Clear();
        for (int i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var m))
                heap.Push(m.Rank, i, m.NewId);
        }
        while (heap.Count > 0)
        {
            var (pos, newId) = heap.Pop();
            int right = next[pos];
            if (!alive[pos] || right < 0)
                continue;
            // A queued merge is stale once either side has changed since it was pushed.
            if (!_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var current) || current.NewId != newId)
                continue;
            ids[pos] = newId;
            ends[pos] = ends[right];
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0)
                prev[next[right]] = pos;
            if (prev[pos] >= 0 && _merges.TryGetValue(PairKey(ids[prev[pos]], ids[pos]), out var left))
                heap.Push(left.Rank, prev[pos], left.NewId);
            if (next[pos] >= 0 && _merges.TryGetValue(PairKey(ids[pos], ids[next[pos]]), out var after))
                heap.Push(after.Rank, pos, after.NewId);
        }
        for (int i = 0; i >= 0; i = next[i])
            output.Add(new TokenSpan(ids[i], starts[i], ends[i]));
    }

    /// <summary>One symbol per character; unknown characters become byte tokens or (fused) unknown tokens.</summary>
    private List<TokenSpan> InitialSymbols(string word)
    {
        var symbols = new List<TokenSpan>(word.Length);
        TokenSpan? unk = null;
        int i = 0;
        while (i < word.Length)
        {
            int width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            bool isFirst = i == 0, isLast = i + width == word.Length;
            string? piece = null;
            int id = LookupCharacter(word, i, width, isFirst, isLast, ref piece);
            if (id >= 0)
            {
                if (unk is { } pending)
                    symbols.Add(pending);
                unk = null;
                symbols.Add(new TokenSpan(id, i, i + width));
            }
            else if (!TryAddBytes(piece ?? word.Substring(i, width), i, i + width, symbols))
            {
                unk = NextUnknown(unk, i, i + width, symbols);
            }
            i += width;
        }
        if (unk is { } last)
            symbols.Add(last);
        return symbols;
    }

    private int LookupCharacter(string word, int i, int width, bool isFirst, bool isLast, ref string? piece)
    {
        bool plain = (isFirst || _options.ContinuingSubwordPrefix is null) && (!isLast || _options.EndOfWordSuffix is null);
        if (plain && width == 1)
            return _charIds[word[i]];
        if (plain)
            return _vocabBySpan.TryGetValue(word.AsSpan(i, width), out int astral) ? astral : -1;
        piece = string.Concat((isFirst ? "" : _options.ContinuingSubwordPrefix).AsSpan(), word.AsSpan(i, width),
            (isLast ? _options.EndOfWordSuffix : "").AsSpan());
        return _vocab.TryGetValue(piece, out int id) ? id : -1;
    }

    private bool TryAddBytes(string piece, int start, int end, List<TokenSpan> symbols)
    {
        if (!_options.ByteFallback)
            return false;
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(piece);
        foreach (byte b in bytes)
        {
            if (_byteIds[b] < 0)
                return false;
        }
        foreach (byte b in bytes)
            symbols.Add(new TokenSpan(_byteIds[b], start, end));
        return true;
    }

    private TokenSpan? NextUnknown(TokenSpan? pending, int start, int end, List<TokenSpan> symbols)
    {
        if (_options.UnkToken is null)
            return pending;
        if (pending is { } p && _options.FuseUnk)
            return p with { End = end };
        if (pending is { } q)
            symbols.Add(q);
        if (!_vocab.TryGetValue(_options.UnkToken, out int unkId))
            throw new InvalidDataException($"tokenizer.json: 'model.unk_token' '{_options.UnkToken}' is not in model.vocab");
        return new TokenSpan(unkId, start, end);
    }
}
