namespace Distill.Samples;

/// <summary>
/// What <see cref="Demo.Run"/> does: the sample folder to read, the output folder, the student's size and the
/// step budget S. Defaults fit the 10-minute budget on a 2-core CPU; tests shrink them.
/// </summary>
/// <param name="SampleRoot">The folder holding data/train.jsonl, data/heldout.jsonl and teacher/.</param>
/// <param name="Out">The output folder (cache, runs, report.md, val_loss.png).</param>
/// <param name="Seeds">Student seeds: one by default, three with --full (mean ± std).</param>
/// <param name="Steps">S, the SFT student's steps; the short KD+SFT run gets round(0.7·S).</param>
/// <param name="GlobalBatch">Conversations per optimizer step.</param>
/// <param name="Lr">Peak learning rate (cosine schedule, 5% warmup), shared by every run so the comparison is like for like:
/// 6e-3 was the best of 3e-3, 6e-3 and 1e-2 for the SFT baseline (samples/README.md), so KD is measured against a tuned baseline.</param>
/// <param name="TopK">Teacher log-probabilities kept per position.</param>
/// <param name="Hidden">Student hidden_size.</param>
/// <param name="Layers">Student num_hidden_layers.</param>
/// <param name="Heads">Student num_attention_heads.</param>
/// <param name="Intermediate">Student intermediate_size.</param>
/// <param name="TrainLimit">Use only the first N training conversations (null: all); for quick tests.</param>
/// <param name="HeldOutLimit">Use only the first N held-out conversations (null: all); for quick tests.</param>
/// <param name="AnswerTokens">Token limit per greedy answer; the sample's longest reference answer is 21 tokens and its end-of-turn one more.</param>
public sealed record DemoOptions(
    string SampleRoot,
    string Out,
    int Seeds = 1,
    int Steps = 1000,
    int GlobalBatch = 16,
    double Lr = 6e-3,
    int TopK = 32,
    int Hidden = 64,
    int Layers = 2,
    int Heads = 4,
    int Intermediate = 192,
    int? TrainLimit = null,
    int? HeldOutLimit = null,
    int AnswerTokens = 32)
{
    /// <summary>The short KD+SFT run's steps: 70% of S, as in NeMo-Aligner's 420k vs 600k.</summary>
    public int ShortSteps => Math.Max(1, (int)Math.Round(0.7 * Steps));
}
