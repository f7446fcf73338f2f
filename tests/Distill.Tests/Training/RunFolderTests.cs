using Distill.Training;

namespace Distill.Tests.Training;

/// <summary>What a run does with what earlier runs left in its output folder.</summary>
public sealed class RunFolderTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly string _student;
    private readonly string _cache;

    public RunFolderTests()
    {
        _student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        _cache = TrainingTestData.Cache(_folder.Sub("cache"), TrainingTestData.Examples(8, seed: 1), teacher, topK: 4);
    }

    public void Dispose() => _folder.Dispose();

    private TrainResult Train(string outDir, List<string>? notes, params string[] overrides) =>
        Trainer.Run(TrainingTestData.Config(_student, _cache, outDir, overrides), new SyncProgress(p =>
        {
            if (p.Message is not null) notes?.Add(p.Message);
        }));

    [Fact]
    public void A_Previous_Runs_Final_And_Metrics_Should_Be_Refused_Unless_Overwrite()
    {
        var outDir = _folder.Sub("out");
        Train(outDir, null, "steps=1");
        var before = File.ReadAllBytes(Path.Combine(outDir, Trainer.FinalFolder, "model.safetensors"));

        var e = Assert.Throws<InvalidDataException>(() => Train(outDir, null, "steps=2"));

        Assert.Contains(outDir, e.Message, StringComparison.Ordinal);
        Assert.Contains("final and metrics.jsonl", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, Trainer.FinalFolder, "model.safetensors")));
        Assert.Equal(2, Train(outDir, null, "steps=2", "overwrite=true").Steps);
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(outDir, Trainer.FinalFolder, "model.safetensors")));
    }

    [Fact]
    public void A_Partial_Checkpoint_Left_By_A_Killed_Save_Should_Be_Removed_At_Start()
    {
        var outDir = _folder.Sub("out");
        var stale = Path.Combine(Checkpoints.Root(outDir), ".step-00000002.partial-0123456789abcdef");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), "half");
        var notes = new List<string>();

        Train(outDir, notes, "steps=1");

        Assert.False(Directory.Exists(stale));
        Assert.Contains(notes, n => n.Contains("removed 1 partial checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_Should_Fall_Back_Past_A_Truncated_Newest_Checkpoint_Naming_Its_File()
    {
        var outDir = _folder.Sub("out");
        Train(outDir, null, "steps=2", "save_interval=1");
        var optimizer = Path.Combine(Checkpoints.PathOf(outDir, 2), Checkpoints.OptimizerFile);
        var bytes = File.ReadAllBytes(optimizer);
        File.WriteAllBytes(optimizer, bytes[..(bytes.Length / 2)]);
        var notes = new List<string>();

        var resumed = Train(outDir, notes, "steps=3", "save_interval=1", "resume=true");

        Assert.Equal(3, resumed.Steps);
        var note = Assert.Single(notes, n => n.Contains(optimizer, StringComparison.Ordinal));
        Assert.Contains($"resuming from the older checkpoint {Checkpoints.PathOf(outDir, 1)}", note, StringComparison.Ordinal);
        var steps = MetricsLog.Read(Path.Combine(outDir, MetricsLog.FileName)).Select(r => r["step"]!.GetValue<int>());
        Assert.Equal([1, 2, 3], steps);   // step 2 was redone from the checkpoint of step 1
        Assert.Null(Checkpoints.FindProblem(Checkpoints.PathOf(outDir, 2)));   // and saved again, whole
        Assert.Single(Directory.GetDirectories(Checkpoints.Root(outDir), ".step-00000002.damaged-*"));
    }

    [Fact]
    public void Resume_On_Other_Data_Should_Be_Refused()
    {
        var outDir = _folder.Sub("out");
        Train(outDir, null, "steps=2", "save_interval=2");
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        var other = TrainingTestData.Cache(_folder.Sub("other"), TrainingTestData.Examples(8, seed: 5), teacher, topK: 4, dataHash: new string('b', 64));

        var e = Assert.Throws<InvalidDataException>(() =>
            Trainer.Run(TrainingTestData.Config(_student, other, outDir, "steps=4", "resume=true")));

        Assert.Contains("trained on other data", e.Message, StringComparison.Ordinal);
        Assert.Contains(Checkpoints.PathOf(outDir, 2), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_With_No_Checkpoint_Should_Say_It_Starts_At_Step_One()
    {
        var notes = new List<string>();

        Train(_folder.Sub("fresh"), notes, "steps=1", "resume=true");

        Assert.Contains(notes, n => n.Contains("no checkpoint to resume from; starting at step 1", StringComparison.Ordinal));
    }
}
