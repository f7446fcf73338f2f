using Distill.Evaluation;
using Distill.Generation;
using Distill.Models;
using Distill.Text;
using Distill.Text.Conversations;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// Held-out answer accuracy for the demo, as <see cref="GenerationEval"/> scores it (greedy answers to each
/// conversation's last assistant turn, right when they end in the reference's final answer), but decoding all prompts
/// of one token length as one batch: a tiny model's decoding step costs its per-operation overhead, not its arithmetic,
/// so 200 questions in ~20 batches take about a tenth of the time of 200 single ones. Prompts of one length need no
/// padding, so the KV cache and the positions are those of single-sequence decoding.
/// </summary>
public static class SampleAnswers
{
    /// <summary>The fraction of <paramref name="conversations"/> (those whose reference ends in a final answer) answered right.</summary>
    /// <exception cref="InvalidDataException">No conversation's last assistant turn ends in a final answer.</exception>
    public static double Accuracy(LlamaForCausalLM model, ChatTokenizer chat, IReadOnlyList<Conversation> conversations, int maxNewTokens,
        IReadOnlyCollection<int> stopIds)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(chat);
        ArgumentNullException.ThrowIfNull(conversations);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        var items = new List<(int[] Prompt, string Final)>();
        foreach (var conversation in conversations)
        {
            int last = conversation.Messages.Count - 1;
            while (last >= 0 && conversation.Messages[last].Role != "assistant") last--;
            if (last < 0 || AnswerScoring.FinalAnswer(conversation.Messages[last].Content) is not { } final) continue;
            items.Add((chat.Encode(chat.Render(conversation.Messages.Take(last).ToList(), addGenerationPrompt: true)).Ids, final));
        }
        if (items.Count == 0) throw new InvalidDataException("held-out data: no assistant answer ends in a final answer such as \"The answer is 42.\"");
        int correct = 0;
        foreach (var group in items.GroupBy(i => i.Prompt.Length))
        {
            var batch = group.ToList();
            var answers = Generate(model, batch.Select(b => b.Prompt).ToList(), maxNewTokens, stopIds);
            for (int b = 0; b < batch.Count; b++)
                if (AnswerScoring.SameFinalAnswer(chat.Tokenizer.Decode(answers[b], skipSpecialTokens: true), batch[b].Final)) correct++;
        }
        return (double)correct / items.Count;
    }

    /// <summary>
    /// Greedy continuations of prompts of equal length, each until a stop id (not included) or <paramref name="maxNewTokens"/>
    /// tokens, as <see cref="Greedy.Generate"/> would give each alone.
    /// </summary>
    public static List<int>[] Generate(LlamaForCausalLM model, IReadOnlyList<int[]> prompts, int maxNewTokens, IReadOnlyCollection<int> stopIds)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(stopIds);
        int batch = prompts.Count, length = prompts[0].Length;
        if (prompts.Any(p => p.Length != length || p.Length == 0)) throw new ArgumentException("the prompts must be non-empty and of one length", nameof(prompts));
        var outputs = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var done = new bool[batch];
        using var noGrad = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        long[] ids = [.. prompts.SelectMany(p => p.Select(i => (long)i))];
        int width = length;
        while (true)
        {
            using (var scope = NewDisposeScope())
            {
                var input = tensor(ids, device: model.Device).reshape(batch, width);                                          // [B, T]
                var hidden = model.Forward(new CausalLMInput { InputIds = input, ComputeLogits = false, Cache = cache }).LastHiddenState;
                var last = hidden[TensorIndex.Colon, -1];                                                                        // [B, H]
                // Only the last position's logits: [B, V] rather than [B, T, V] for the prompt.
                ids = nn.functional.linear(last, model.LmHeadWeight).to_type(ScalarType.Float32).argmax(-1).cpu().data<long>().ToArray();
            }
            width = 1;
            for (int b = 0; b < batch; b++)
            {
                if (done[b]) continue;
                if (stopIds.Contains((int)ids[b])) done[b] = true;
                else
                {
                    outputs[b].Add((int)ids[b]);
                    if (outputs[b].Count == maxNewTokens) done[b] = true;
                }
            }
            if (done.All(d => d)) return outputs;
        }
    }
}
