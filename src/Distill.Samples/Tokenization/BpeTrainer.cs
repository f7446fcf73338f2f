using System.Text.RegularExpressions;

namespace Distill.Text.Tokenization;

/// <summary>
/// A small byte-level BPE trainer, enough to give a benchmark or the bundled sample a vocabulary without a
/// download: the text is cut into words by the Llama 3 regex, each word starts as its UTF-8 bytes (token b is
/// byte b), and the most frequent adjacent pair is merged into a new token until the vocabulary is full or no
/// pair occurs twice. Only the words holding the merged pair are revisited, and the best pair comes from a
/// max-heap with lazily discarded stale counts, so a 32k vocabulary takes seconds, not hours.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Llama 3's pre-tokenizer pattern: contractions, letter runs, digit runs of up to three, punctuation, whitespace.</summary>
    public const string Llama3Regex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Llama 3's pattern with every digit a word of its own (as Llama 1's and Qwen's tokenizers split numbers), so
    /// no merge spans two digits: "472" is always the tokens 4, 7, 2, which keeps column arithmetic learnable.
    /// </summary>
    public const string SingleDigitRegex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Token byte strings by id: ids 0–255 are the single bytes, later ids in the order they were learned.</summary>
    /// <param name="documents">The training text.</param>
    /// <param name="vocabSize">The vocabulary size to stop at (at least 256); fewer tokens come back when no pair occurs twice.</param>
    /// <param name="pattern">The pre-tokenizer regex that cuts the text into words (default <see cref="Llama3Regex"/>).</param>
    public static List<byte[]> Train(IEnumerable<string> documents, int vocabSize, string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256);
        var (words, counts) = CountWords(documents, pattern ?? Llama3Regex);
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        var idOf = tokens.Select((t, id) => (Key(t), id)).ToDictionary(p => p.Item1, p => p.id);
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (int w = 0; w < words.Length; w++)
            AddPairs(words[w], counts[w], w, pairCounts, pairWords, null);
        var heap = new PriorityQueue<long, (long, long)>(pairCounts.Select(p => (p.Key, (-p.Value, p.Key))));

        while (tokens.Count < vocabSize && heap.TryDequeue(out long pair, out var priority))
        {
            long count = -priority.Item1;
            if (pairCounts.GetValueOrDefault(pair) != count) continue; // stale: the count changed after this entry was queued
            if (count < 2) break;
            var (left, right) = ((int)(pair >> 32), (int)(pair & 0xFFFFFFFF));
            byte[] merged = [.. tokens[left], .. tokens[right]];
            // Two different pairs can spell the same bytes ("ab"+"c", "a"+"bc"); they share one token, as in Hugging Face's trainer.
            if (!idOf.TryGetValue(Key(merged), out int id))
            {
                id = tokens.Count;
                tokens.Add(merged);
                idOf[Key(merged)] = id;
            }
            var changed = new HashSet<long>();
            foreach (int w in pairWords[pair].ToArray())
            {
                AddPairs(words[w], -counts[w], w, pairCounts, null, changed);
                words[w] = Replace(words[w], left, right, id);
                AddPairs(words[w], counts[w], w, pairCounts, pairWords, changed);
            }
            foreach (long p in changed)
            {
                if (pairCounts.GetValueOrDefault(p) is var c and > 0)
                    heap.Enqueue(p, (-c, p));
            }
        }
        return tokens;
    }

    private static (int[][] Words, long[] Counts) CountWords(IEnumerable<string> documents, string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        var frequency = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string document in documents)
        {
            foreach (Match m in regex.Matches(document))
                frequency[m.Value] = frequency.GetValueOrDefault(m.Value) + 1;
        }
        var words = frequency.Keys.Select(w => System.Text.Encoding.UTF8.GetBytes(w).Select(b => (int)b).ToArray()).ToArray();
        return (words, frequency.Values.ToArray());
    }

    private static void AddPairs(int[] word, long count, int w, Dictionary<long, long> pairCounts,
        Dictionary<long, HashSet<int>>? pairWords, HashSet<long>? changed)
    {
        for (int i = 0; i + 1 < word.Length; i++)
        {
            long pair = ((long)word[i] << 32) | (uint)word[i + 1];
            pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + count;
            changed?.Add(pair);
            if (pairWords is not null)
            {
                if (!pairWords.TryGetValue(pair, out var set))
                    pairWords[pair] = set = [];
                set.Add(w);
            }
        }
    }

    private static int[] Replace(int[] word, int left, int right, int id)
    {
        var result = new List<int>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
            {
                result.Add(id);
                i++;
            }
            else
            {
                result.Add(word[i]);
            }
        }
        return [.. result];
    }

    /// <summary>A byte string as a dictionary key (Latin-1 maps each byte to one char).</summary>
    public static string Key(byte[] bytes) => System.Text.Encoding.Latin1.GetString(bytes);
}
