using Distill.LogitCache;

namespace Distill.Teachers;

/// <summary>
/// A server's top log-probabilities at one position as a logit-cache row (docs/FORMAT.md). For log-probabilities
/// ℓ_1 ≥ … ≥ ℓ_K of the K most likely tokens, the row stores <c>topk_logits_k = ℓ_k − ℓ_1</c> and
/// <c>logsumexp = −ℓ_1</c>. Why that is exactly what a local teacher stores: with logits z, max m and
/// L = log Σ_v exp(z_v − m), the server's ℓ_k = z_k − m − L (log-softmax is shift-invariant), and the most likely
/// token has z_1 = m, so ℓ_k − ℓ_1 = z_k − m and −ℓ_1 = L. Hence topk_logits − logsumexp = ℓ_k, the teacher's
/// log-probability, and 1 − Σ_k exp(ℓ_k) is the mass outside the K that the tail-aware losses use. The two agree up
/// to the rounding of the server's fp32 log-softmax and of its decimal printing.
/// </summary>
public static class ServedRows
{
    /// <summary>
    /// Largest ℓ_1 accepted: a log-probability is ≤ 0; 1e-3 admits rounding (the cache reader's own tolerance on
    /// logsumexp ≥ −0.001).
    /// </summary>
    public const double MaxLogprob = 1e-3;

    /// <summary>
    /// Writes the row of <paramref name="top"/> (student ids with their log-probabilities, any order; more than
    /// <paramref name="k"/> entries allowed, as vLLM adds the scored token to its top) into <paramref name="ids"/> and
    /// <paramref name="logits"/> (length K each) and returns the row's logsumexp.
    /// </summary>
    /// <exception cref="InvalidDataException">Fewer than K distinct tokens, a repeated token, or a log-probability that is
    /// not finite or above 0; names <paramref name="where"/>.</exception>
    public static float Fill(IReadOnlyList<(int Id, double Logprob)> top, int k, Span<int> ids, Span<float> logits, string where)
    {
        ArgumentNullException.ThrowIfNull(top);
        if (top.Count < k)
            throw new InvalidDataException($"{where}: the server returned {top.Count} top tokens, not the {k} asked for " +
                "(token strings that collide lose entries in the completions API; ask for token ids: return_tokens_as_token_ids)");
        var sorted = top.OrderByDescending(t => t.Logprob).ToArray();   // stable: ties keep the server's order
        var seen = new HashSet<int>();
        foreach (var (id, logprob) in sorted)
        {
            if (!double.IsFinite(logprob) || logprob > MaxLogprob)
                throw new InvalidDataException($"{where}: log-probability {logprob} of token id {id} is not a log-probability (finite, ≤ 0)");
            if (!seen.Add(id)) throw new InvalidDataException($"{where}: student token id {id} appears twice among the server's top tokens");
        }
        var first = sorted[0].Logprob;
        for (var i = 0; i < k; i++)
        {
            ids[i] = sorted[i].Id;
            logits[i] = (float)(sorted[i].Logprob - first);
        }
        return (float)-first;
    }

    /// <summary>
    /// The cache example of <paramref name="inputIds"/> and <paramref name="lossMask"/> (copied) with one row per supervised
    /// target j ≥ 1, made from the server's top tokens at j.
    /// </summary>
    /// <exception cref="InvalidDataException">A row the server did not give fully; names <paramref name="name"/> and the position.</exception>
    public static CacheExample Example(int[] inputIds, byte[] lossMask, ScoredTokens scored, int k, string name)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(lossMask);
        ArgumentNullException.ThrowIfNull(scored);
        var rows = lossMask.Skip(1).Count(m => m != 0);
        var ids = new int[rows * k];
        var logits = new float[rows * k];
        var lse = new float[rows];
        var r = 0;
        for (var j = 1; j < inputIds.Length; j++)
        {
            if (lossMask[j] == 0) continue;
            var top = scored.Top[j] ?? throw new InvalidDataException($"{name}: no top log-probabilities at position {j}");
            lse[r] = Fill(top, k, ids.AsSpan(r * k, k), logits.AsSpan(r * k, k), $"{name}: position {j}");
            r++;
        }
        return new CacheExample((int[])inputIds.Clone(), (byte[])lossMask.Clone(), k, ids, logits, lse);
    }
}
