using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Training;

/// <summary>
/// <c>trainer_state.json</c> of a checkpoint: where the run is. With the weights and the optimizer state this is all a
/// resumed run needs to continue exactly: the schedule is a function of <see cref="Step"/>, the data order a function of
/// (<see cref="Seed"/>, <see cref="ExamplesSeen"/>), and no step draws random numbers.
/// </summary>
public sealed record TrainerState
{
    /// <summary>The file name inside a checkpoint folder.</summary>
    public const string FileName = "trainer_state.json";

    /// <summary>Optimizer steps completed (including skipped ones).</summary>
    [JsonPropertyName("step")] public required int Step { get; init; }

    /// <summary>The data position: examples consumed, = step · global_batch.</summary>
    [JsonPropertyName("examples_seen")] public required long ExamplesSeen { get; init; }

    /// <summary>The seed of the data order.</summary>
    [JsonPropertyName("seed")] public required long Seed { get; init; }

    /// <summary>The global batch the data position was counted in.</summary>
    [JsonPropertyName("global_batch")] public required int GlobalBatch { get; init; }

    /// <summary>Steps skipped for a non-finite loss or gradient.</summary>
    [JsonPropertyName("skipped_steps")] public int SkippedSteps { get; init; }

    /// <summary>The lowest validation loss so far, or null.</summary>
    [JsonPropertyName("best_val_loss")] public double? BestValLoss { get; init; }

    /// <summary>The step of <see cref="BestValLoss"/>, or null.</summary>
    [JsonPropertyName("best_step")] public int? BestStep { get; init; }

    /// <summary>What was trained on (<see cref="Training.DataIdentity"/>); a resume on other data is refused. Null in older checkpoints.</summary>
    [JsonPropertyName("data_identity")] public string? DataIdentity { get; init; }

    /// <summary>
    /// Size in bytes of every other file of the checkpoint, written last, so a file cut short later (a full disk, a copy
    /// interrupted) is found by its size before a resume reads it. Null in older checkpoints.
    /// </summary>
    [JsonPropertyName("files")] public IReadOnlyDictionary<string, long>? Files { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Writes the state as indented JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n", new UTF8Encoding(false));

    /// <summary>Reads a state file; <see cref="InvalidDataException"/> names the file.</summary>
    public static TrainerState Load(string path)
    {
        try
        {
            var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path, Encoding.UTF8), Json)
                ?? throw new InvalidDataException($"{path}: trainer state is null");
            if (state.Step < 0 || state.ExamplesSeen < 0 || state.GlobalBatch < 1)
                throw new InvalidDataException($"{path}: step, examples_seen and global_batch must be non-negative (global_batch ≥ 1)");
            return state;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
