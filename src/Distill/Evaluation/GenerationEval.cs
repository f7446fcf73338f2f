using Distill.Generation;
using Distill.Models;
using Distill.Text;
using Distill.Text.Conversations;

namespace Distill.Evaluation;

/// <summary>
/// Greedy answers to held-out conversations: the prompt is every message before the last assistant turn, rendered
/// with the generation prompt; the answer is scored against that last assistant message (see <see cref="AnswerScoring"/>).
/// </summary>
public static class GenerationEval
{
    /// <summary>Generates for every conversation that has an assistant turn and scores the answers.</summary>
    /// <param name="model">The model.</param>
    /// <param name="chat">The model's tokenizer and chat template.</param>
    /// <param name="conversations">Held-out conversations; those without an assistant message are skipped.</param>
    /// <param name="maxNewTokens">Token limit per answer, ≥ 1.</param>
    /// <param name="stopIds">Ids that end an answer, e.g. <see cref="StopIds"/>.</param>
    /// <exception cref="InvalidDataException">No conversation has an assistant turn, or the template refuses one.</exception>
    public static GenerationScore Run(LlamaForCausalLM model, ChatTokenizer chat, IEnumerable<Conversation> conversations,
        int maxNewTokens, IReadOnlyCollection<int> stopIds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        long count = 0, exact = 0, withAnswer = 0, contained = 0, correct = 0, stopped = 0;
        foreach (var conversation in conversations)
        {
            var last = LastAssistant(conversation.Messages);
            if (last < 0) continue;
            var prompt = chat.Encode(chat.Render(conversation.Messages.Take(last).ToList(), addGenerationPrompt: true)).Ids;
            var result = Greedy.Generate(model, prompt, maxNewTokens, stopIds);
            var answer = chat.Tokenizer.Decode(result.Tokens, skipSpecialTokens: true);
            var reference = conversation.Messages[last].Content;
            count++;
            if (result.StoppedAtEos) stopped++;
            if (AnswerScoring.ExactMatch(answer, reference)) exact++;
            if (AnswerScoring.FinalAnswer(reference) is { } final)
            {
                withAnswer++;
                if (AnswerScoring.ContainsAnswer(answer, final)) contained++;
                if (AnswerScoring.SameFinalAnswer(answer, final)) correct++;
            }
        }
        if (count == 0) throw new InvalidDataException("held-out data: no conversation has an assistant message to compare against");
        return new GenerationScore(count, (double)exact / count, withAnswer, withAnswer > 0 ? (double)contained / withAnswer : null,
            withAnswer > 0 ? (double)correct / withAnswer : null, (double)stopped / count);
    }

    /// <summary>
    /// Ids that end generation: the model's <c>eos_token_id</c>s and every end-of-turn marker of <paramref name="chat"/>
    /// that is a single token (the tokenizer's EOS, generation_config.json's EOS ids, the usual chat end-of-turn tokens).
    /// </summary>
    public static IReadOnlyCollection<int> StopIds(LlamaConfig config, ChatTokenizer chat)
    {
        var ids = new HashSet<int>(config.EosTokenId ?? []);
        foreach (var marker in chat.Options.Markers)
            if (chat.Tokenizer.TokenToId(marker) is { } id) ids.Add(id);
        return ids;
    }

    private static int LastAssistant(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
            if (messages[i].Role == "assistant") return i;
        return -1;
    }
}
