using Distill.Losses;

namespace Distill.Samples;

/// <summary>
/// What <see cref="Demo.Run"/> does: the sample folder to read, the output folder, the student's size, the step
/// budget S and each method's learning rate. Defaults fit the 10-minute budget on a 2-core CPU; tests shrink them.
/// </summary>
/// <param name="SampleRoot">The folder holding data/train.jsonl, data/heldout.jsonl and teacher/.</param>
/// <param name="Out">The output folder (caches, runs, report.md, the figure).</param>
/// <param name="Seeds">Student seeds (mean ± std over them): 3 by default, 5 with --full.</param>
/// <param name="Steps">S, the SFT student's steps; the short KD+SFT run gets round(0.7·S).</param>
/// <param name="GlobalBatch">Conversations per optimizer step.</param>
/// <param name="SftLr">Peak learning rate of the SFT runs (cosine schedule, 5% warmup): 2e-3 was the best of 1e-3, 2e-3 and
/// 4e-3 for SFT of the pruned student in samples/README.md's sweep, so KD is measured against a tuned baseline (the random
/// student's best was 6e-3: <c>--init random</c> uses it).</param>
/// <param name="KdLr">Peak learning rate of the KD+SFT runs: 2e-3 was also KD+SFT's best of the same three.</param>
/// <param name="TopK">Teacher log-probabilities kept per position in the cache.</param>
/// <param name="Hidden">Student hidden_size.</param>
/// <param name="Layers">Student num_hidden_layers.</param>
/// <param name="Heads">Student num_attention_heads.</param>
/// <param name="Intermediate">Student intermediate_size.</param>
/// <param name="CurvePoints">Points of the answer-accuracy curve per run (checkpoints at S/n, 2S/n, …, S); the loss curve has 20.</param>
/// <param name="KSweep">Extra KD+SFT runs at S using only the teacher's first K of <paramref name="TopK"/> (--full: 1, 4, 32).</param>
/// <param name="TrainLimit">Use only the first N training conversations (null: all); for quick tests.</param>
/// <param name="HeldOutLimit">Use only the first N held-out conversations (null: all); for quick tests.</param>
/// <param name="AnswerTokens">Token limit per greedy answer; the sample's longest reference answer is under 90 tokens.</param>
/// <param name="Init">How the student starts: pruned from the teacher (every second layer, then Minitron's width pruning
/// to the student's size; one initialisation for every seed, the seeds vary the data order) or at random (one per seed).</param>
public sealed record DemoOptions(
    string SampleRoot,
    string Out,
    int Seeds = 3,
    int Steps = 300,
    int GlobalBatch = 16,
    double SftLr = 2e-3,
    double KdLr = 2e-3,
    int TopK = 32,
    int Hidden = 128,
    int Layers = 2,
    int Heads = 4,
    int Intermediate = 384,
    int CurvePoints = 4,
    IReadOnlyList<int>? KSweep = null,
    int? TrainLimit = null,
    int? HeldOutLimit = null,
    int AnswerTokens = 96,
    DemoInit Init = DemoInit.Pruned)
{
    /// <summary>Both methods' best learning rate for the random student (of 3e-3, 6e-3 and 1.2e-2; samples/README.md).</summary>
    public const double RandomStudentLr = 6e-3;

    /// <summary>
    /// The settings the random student was measured with (samples/README.md's history): a random start per seed, lr
    /// <see cref="RandomStudentLr"/> for both methods, and the tutorial's objective at temperature 1.
    /// </summary>
    public DemoOptions WithRandomStudent() => this with
    {
        Init = DemoInit.Random, SftLr = RandomStudentLr, KdLr = RandomStudentLr, Kd = Kd with { Temperature = 1, TSquared = false },
    };

    /// <summary>The short KD+SFT run's steps: 70% of S, as in NeMo-Aligner's 420k vs 600k.</summary>
    public int ShortSteps => Math.Max(1, (int)Math.Round(0.7 * Steps));

    /// <summary>
    /// The KD+SFT objective: forward KL on the teacher's top-K, kd weight 1, sft weight 0.4 (NeMo-Aligner's tutorial), at
    /// temperature 2 with Hinton's T² factor: of the objective sweep in samples/README.md, the only change from the
    /// tutorial's that lowered the pruned student's held-out loss by more than the seeds' spread.
    /// </summary>
    public KdObjective Kd { get; init; } = new(KdLossKind.FwdKl, KdWeight: 1.0, SftWeight: 0.4, Temperature: 2.0, TSquared: true);
}

/// <summary>Where the demo's student starts.</summary>
public enum DemoInit
{
    /// <summary>Pruned from the teacher (<see cref="Distill.Models.WidthPruning"/>), as Minitron makes its students.</summary>
    Pruned,

    /// <summary>A random initialisation of the student's shape, one per seed.</summary>
    Random,
}
