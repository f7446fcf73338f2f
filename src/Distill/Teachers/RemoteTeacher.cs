using Distill.Losses;
using Distill.Text.Tokenization;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Teachers;

/// <summary>
/// A teacher behind an OpenAI-compatible server (vLLM, SGLang, TGI, <c>distill serve</c>): for every example of a
/// micro-batch it has the server score the example's token ids as given (<see cref="ServedScorer"/>), concurrently, and
/// answers either with its top-K rows (<c>teacher_top_k</c>, K ≤ 20: supervised KD with the top-K and tail-aware losses,
/// rows made by <see cref="ServedRows"/> exactly as a logit cache stores them) or with the log-probability of each target
/// token (what <c>sampled_rkl</c> needs) — so KD runs against a teacher whose weights are not here.
/// </summary>
public sealed class RemoteTeacher : ITeacher
{
    /// <summary>The most top log-probabilities OpenAI returns, and vLLM's default <c>--max-logprobs</c>.</summary>
    public const int MaxTopK = 20;

    private readonly ServedScorer _scorer;

    private RemoteTeacher(ServedScorer scorer, int? topK)
    {
        _scorer = scorer;
        TopK = topK;
    }

    /// <summary>Connects to <paramref name="url"/>; <paramref name="model"/> null asks /v1/models for it.</summary>
    /// <param name="url">The server.</param>
    /// <param name="model">The model to ask for, or null.</param>
    /// <param name="topK">Answer with top-K rows (1 to <see cref="MaxTopK"/>); null answers with the targets' log-probabilities.</param>
    /// <param name="student">The student's tokenizer, which the server's tokens are mapped to.</param>
    /// <param name="vocabSize">The student's vocabulary size.</param>
    /// <param name="apiKeyEnv">The environment variable holding the API key.</param>
    /// <exception cref="InvalidDataException">K out of range, or the server cannot be reached or lists no model.</exception>
    public static RemoteTeacher Connect(string url, string? model, int? topK, HfTokenizer student, int vocabSize, string apiKeyEnv = "OPENAI_API_KEY")
    {
        CheckTopK(topK);
        return new RemoteTeacher(ServedScorer.Connect(url, model, student, vocabSize, maxConcurrency: 64, apiKeyEnv), topK);
    }

    /// <summary>Refuses a K a server cannot give.</summary>
    /// <exception cref="InvalidDataException">K outside [1, <see cref="MaxTopK"/>].</exception>
    public static void CheckTopK(int? topK)
    {
        if (topK is < 1 or > MaxTopK)
            throw new InvalidDataException($"teacher_top_k = {topK} with a served teacher must be in [1, {MaxTopK}]: OpenAI returns at most {MaxTopK} " +
                "top log-probabilities per token and vLLM's default --max-logprobs is 20");
    }

    /// <summary>K, or null when the teacher answers with the targets' log-probabilities only.</summary>
    public int? TopK { get; }

    /// <inheritdoc />
    public string Name => _scorer.Name;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">
    /// The server failed, cannot score given text, or tokenizes otherwise than the student (names the position and token).
    /// </exception>
    public TeacherSignal Signal(MicroBatch batch)
    {
        var k = TopK ?? 0;
        var scored = Task.WhenAll(batch.Examples.Select(e => _scorer.ScoreAsync(e.InputIds, k))).GetAwaiter().GetResult();
        var device = batch.Labels.device;
        if (k == 0)
        {
            var labels = batch.Examples.SelectMany((e, b) => Enumerable.Range(1, e.InputIds.Length - 1).Where(j => e.LossMask[j] != 0)
                .Select(j => scored[b].LabelLogProbs[j]));
            return TeacherSignal.LabelLogProbs(tensor(labels.ToArray(), device: device));
        }
        // Rows in the order of MicroBatch.HiddenRows: examples in order, targets in order, as a cache stores them.
        var rows = batch.Examples.Select((e, b) => ServedRows.Example(e.InputIds, e.LossMask, scored[b], k, Name)).ToArray();
        var n = rows.Sum(r => r.LogSumExp.Length);
        return TeacherSignal.TopK(tensor(rows.SelectMany(r => r.TopKIds).Select(i => (long)i).ToArray(), [n, k], device: device),
            tensor(rows.SelectMany(r => r.TopKLogits).ToArray(), [n, k], device: device), tensor(rows.SelectMany(r => r.LogSumExp).ToArray(), device: device));
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => _scorer.Dispose();
}
