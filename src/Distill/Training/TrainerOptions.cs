namespace Distill.Training;

/// <summary>The <c>trainer</c> section: steps, batching, seeds, validation and checkpoints.</summary>
/// <param name="Out">Output folder (<c>out</c>): metrics, checkpoints, the resolved config and the final student.</param>
/// <param name="Steps">Optimizer steps to run (<c>steps</c>).</param>
/// <param name="GlobalBatch">Examples per optimizer step (<c>global_batch</c>).</param>
/// <param name="MicroBatch">Examples per forward pass (<c>micro_batch</c>); must divide global_batch.</param>
/// <param name="Seed">Seed of the data order (<c>seed</c>); the same seed gives the same run on CPU.</param>
/// <param name="ChunkSize">Tokens per chunk of the output projection and loss (<c>chunk_size</c>).</param>
/// <param name="ValInterval">Validate every N steps and at the end (<c>val_interval</c>); 0 only at the end.</param>
/// <param name="SaveInterval">Checkpoint every N steps (<c>save_interval</c>); 0 never (Ctrl-C still saves).</param>
/// <param name="KeepLast">Checkpoints kept besides the best by validation loss (<c>keep_last</c>).</param>
/// <param name="Resume">Continue from the newest checkpoint in the output folder (<c>resume</c>).</param>
/// <param name="SkipNonfinite">Skip and count steps with a non-finite loss or gradient instead of stopping (<c>skip_nonfinite</c>).</param>
/// <param name="MaxSkippedFraction">
/// With <c>skip_nonfinite</c>, stop with an error once more than this fraction of the steps run so far was skipped
/// (<c>max_skipped_fraction</c>): a rare overflow is noise, a run that skips one step in ten has diverged.
/// </param>
/// <param name="Overwrite">Replace a previous run's <c>final/</c> and metrics in <c>out</c> (<c>overwrite</c>); never checkpoints.</param>
public sealed record TrainerOptions(
    string Out = "",
    int Steps = 100,
    int GlobalBatch = 8,
    int MicroBatch = 1,
    long Seed = 1234,
    int ChunkSize = 1024,
    int ValInterval = 0,
    int SaveInterval = 0,
    int KeepLast = 2,
    bool Resume = false,
    bool SkipNonfinite = false,
    double MaxSkippedFraction = 0.1,
    bool Overwrite = false);
