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
/// of one token length as one batch of the one <see cref="Sampler"/>: a tiny model's decoding step costs its per-operation overhead, not its arithmetic,
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
            var answers = Sampler.Sample(model, batch.Select(b => b.Prompt).ToList(), SamplingOptions.Greedy(maxNewTokens, stopIds), null);
            for (int b = 0; b < batch.Count; b++)
                if (AnswerScoring.SameFinalAnswer(chat.Tokenizer.Decode(answers[b].Tokens, skipSpecialTokens: true), batch[b].Final)) correct++;
        }
        return (double)correct / items.Count;
    }
}
