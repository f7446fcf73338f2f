using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Generation;

/// <summary>
/// Batched decoding with a <see cref="KvCache"/>: temperature, top-k, top-p, greedy as temperature 0, stop ids and a
/// token limit. The one decoding loop of Distill (<see cref="Greedy"/> is this with temperature 0), shared by
/// on-policy distillation, <c>distill eval --generate</c> and <c>distill generate</c>.
/// <para>
/// Padding: prompts of different lengths are left-padded to the longest, so every row's newest token is the last
/// column and one [B, 1] step serves the whole batch. The padding mask covers the cached and the new slots
/// ([B, S + T], see <see cref="CausalLMInput.AttentionMask"/>): pads are never attended to, and each real token gets
/// the position it has unpadded (the count of real tokens before it), so a row decodes exactly as it does alone (to
/// float rounding: the batched matmuls may sum in another order).
/// </para>
/// <para>
/// Cost per step: one forward pass over the live rows' newest tokens and one host sync (the chosen ids, which the
/// host needs for the stop test). A row that stops leaves the batch at once: its cache rows are dropped, so finished
/// rows cost nothing more. Without padding (one prompt, or equal lengths) no mask is built at all.
/// </para>
/// </summary>
public static class Sampler
{
    /// <summary>Tokens top-p looks among before sorting the whole vocabulary (see <see cref="Choose"/>).</summary>
    internal const long TopPCandidates = 1024;

    /// <summary>
    /// Continues every prompt under no-grad with the model's current weights (in eval mode for the call; a model in
    /// training mode is put back after), until a stop id or <see cref="SamplingOptions.MaxNewTokens"/>.
    /// </summary>
    /// <param name="model">The model; any dtype (the logits are taken to fp32 before sampling).</param>
    /// <param name="prompts">Token ids of each prompt, each non-empty and within the vocabulary.</param>
    /// <param name="options">Temperature, top-k, top-p, limit and stop ids; validated here.</param>
    /// <param name="random">
    /// The random stream; each prompt takes one seed from it in order, whatever the options, so a batch and the same
    /// prompts one call at a time give the same samples. May be null only for greedy decoding.
    /// </param>
    /// <returns>One result per prompt, in prompt order.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or a prompt is empty or holds ids outside the vocabulary.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null and the temperature is above 0.</exception>
    public static GenerationResult[] Sample(LlamaForCausalLM model, IReadOnlyList<int[]> prompts, SamplingOptions options, SamplingRandom? random)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (random is null && !options.IsGreedy)
            throw new ArgumentNullException(nameof(random), $"sampling at temperature {options.Temperature} needs a SamplingRandom (only temperature 0 does not)");
        CheckPrompts(prompts, model.Config.VocabSize);
        var rowStates = new ulong[prompts.Count];
        if (random is not null)
            for (var i = 0; i < rowStates.Length; i++) rowStates[i] = random.NextRowSeed();
        var tokens = prompts.Select(_ => new List<int>()).ToArray();
        var stops = new int?[prompts.Count];
        if (prompts.Count > 0 && options.MaxNewTokens > 0)
        {
            var wasTraining = model.training;
            if (wasTraining) model.eval();
            try
            {
                Decode(model, prompts, options, rowStates, tokens, stops);
            }
            finally
            {
                if (wasTraining) model.train();
            }
        }
        return tokens.Select((t, i) => new GenerationResult([.. t], stops[i])).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="ids"/> [B, T] after what <paramref name="cache"/> holds and returns each row's last position
    /// logits [B, V] as fp32, in the caller's dispose scope. <paramref name="mask"/> is null or [B, S + T].
    /// </summary>
    internal static Tensor LastLogits(LlamaForCausalLM model, KvCache cache, Tensor ids, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var input = new CausalLMInput { InputIds = ids, AttentionMask = mask, ComputeLogits = false, Cache = cache, IdsInVocabulary = true };
        var last = model.Forward(input).LastHiddenState.select(1, -1); // [B, hidden]
        // Only the last position's logits are needed: [B, V] instead of [B, T, V] over the prompt.
        return nn.functional.linear(last, model.LmHeadWeight).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private static void Decode(LlamaForCausalLM model, IReadOnlyList<int[]> prompts, SamplingOptions options,
        ulong[] rowStates, List<int>[] tokens, int?[] stops)
    {
        var stopIds = options.StopIds.ToHashSet();
        var longest = prompts.Max(p => p.Length);
        var rows = Enumerable.Range(0, prompts.Count).ToArray();             // batch row → prompt index
        var pads = prompts.Select(p => (long)(longest - p.Length)).ToArray(); // left padding of each batch row
        long[]? fed = null;                                                  // last step's tokens of the live rows
        using var noGrad = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        while (true)
        {
            using var scope = NewDisposeScope();
            var ids = fed is null ? LeftPadded(prompts, longest, model.Device) : tensor(fed, device: model.Device).unsqueeze(1); // [B, T]
            var mask = pads.Any(p => p > 0) ? PaddingMask(pads, cache.Length + ids.shape[1], model.Device) : null;
            var logits = LastLogits(model, cache, ids, mask);                                                                 // [B, V]
            var uniforms = options.IsGreedy ? null
                : tensor(rows.Select(i => SamplingRandom.NextUniform(ref rowStates[i])).ToArray(), device: model.Device);      // [B]
            var chosen = Choose(logits, options, uniforms);
            var live = new List<int>(rows.Length);
            for (var b = 0; b < rows.Length; b++)
            {
                var i = rows[b];
                var token = (int)chosen[b];
                if (stopIds.Contains(token)) { stops[i] = token; continue; }
                tokens[i].Add(token);
                if (tokens[i].Count < options.MaxNewTokens) live.Add(b);
            }
            if (live.Count == 0) return;
            if (live.Count < rows.Length)
            {
                cache.KeepRows(live.Select(b => (long)b).ToArray());
                rows = live.Select(b => rows[b]).ToArray();
                pads = live.Select(b => pads[b]).ToArray();
            }
            fed = live.Select(b => chosen[b]).ToArray();
        }
    }

    /// <summary>
    /// The step's tokens on the host, with one host sync: top-p first looks among the <see cref="TopPCandidates"/> most
    /// likely tokens (a partial sort instead of sorting the vocabulary) and ships, in the same transfer, whether that
    /// was exact for every row. A row whose nucleus is wider (a flat distribution) has the step redone with the full
    /// sort, from the same uniforms, so the tokens never depend on the shortcut.
    /// </summary>
    private static long[] Choose(Tensor logits, SamplingOptions options, Tensor? uniforms)
    {
        using var scope = NewDisposeScope();
        var tokens = SamplingFilters.NextTokens(logits, options, uniforms, TopPCandidates, out var exact); // [B]
        if (exact is null) return tokens.data<long>().ToArray();
        var rows = (int)tokens.shape[0];
        var host = cat(new[] { tokens, exact.to_type(ScalarType.Int64) }).data<long>().ToArray();
        if (host.Skip(rows).All(e => e != 0)) return host[..rows];
        return SamplingFilters.NextTokens(logits, options, uniforms).data<long>().ToArray();
    }

    /// <summary>[B, longest] int64, each prompt right-aligned after pad id 0 (any id would do: pads are never attended).</summary>
    private static Tensor LeftPadded(IReadOnlyList<int[]> prompts, int longest, Device device)
    {
        var flat = new long[prompts.Count * longest];
        for (var b = 0; b < prompts.Count; b++)
        {
            var offset = b * longest + longest - prompts[b].Length;
            for (var t = 0; t < prompts[b].Length; t++) flat[offset + t] = prompts[b][t];
        }
        return tensor(flat, device: device).view(prompts.Count, longest);
    }

    /// <summary>[B, length] bool, true from slot pads[b] on: the padding mask over every cached and new slot.</summary>
    private static Tensor PaddingMask(long[] pads, long length, Device device)
    {
        using var scope = NewDisposeScope();
        var slots = arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(0); // [1, S + T]
        return slots.ge(tensor(pads, device: device).unsqueeze(1)).MoveToOuterDisposeScope();
    }

    private static void CheckPrompts(IReadOnlyList<int[]> prompts, int vocabulary)
    {
        for (var i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is not { Length: > 0 } prompt) throw new ArgumentException($"prompt {i} holds no tokens", nameof(prompts));
            foreach (var id in prompt)
                if (id < 0 || id >= vocabulary)
                    throw new ArgumentException($"prompt {i} holds token id {id}, outside the vocabulary [0, {vocabulary})", nameof(prompts));
        }
    }
}
