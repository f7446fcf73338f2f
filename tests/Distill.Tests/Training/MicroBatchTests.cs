using Distill.LogitCache;
using Distill.Teachers;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

public class MicroBatchTests
{
    // A: ids 5 6 7 8, targets at j = 1, 3; B: ids 9 10 11, targets at j = 1, 2; position 0 of B is marked but can never be a target.
    private static readonly TrainingExample A = new([5, 6, 7, 8], [0, 1, 0, 1]);
    private static readonly TrainingExample B = new([9, 10, 11], [1, 1, 1]);

    [Fact]
    public void Build_Should_Pad_Right_And_Gather_The_Shifted_Targets()
    {
        using var scope = NewDisposeScope();
        using var source = new InMemoryExampleSource("mem", [A, B]);
        var batch = MicroBatch.Build(source, [0, 1], CPU);
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10, 11, MicroBatch.PadId }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 4 }, batch.InputIds.shape);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0 }, batch.AttentionMask!.data<long>().ToArray());
        // Target j of example b is predicted by hidden row b·T + j − 1 (T = 4).
        Assert.Equal(new long[] { 0, 2, 4, 5 }, batch.HiddenRows.data<long>().ToArray());
        Assert.Equal(new long[] { 6, 8, 10, 11 }, batch.Labels.data<long>().ToArray());
        Assert.Equal(new[] { 2, 2 }, batch.RowCounts);
        Assert.Equal(new long[] { 0, 1 }, batch.Indices);
        Assert.Equal(4, batch.SupervisedTokens);
        Assert.Equal(7, batch.Tokens);
    }

    [Fact]
    public void Build_Should_Leave_The_Attention_Mask_Out_When_Nothing_Is_Padded()
    {
        using var scope = NewDisposeScope();
        using var source = new InMemoryExampleSource("mem", [A, A]);
        var batch = MicroBatch.Build(source, [1, 0], CPU);
        Assert.Null(batch.AttentionMask);
        Assert.Equal(new long[] { 0, 2, 4, 6 }, batch.HiddenRows.data<long>().ToArray());
    }

    [Fact]
    public void Build_Should_Align_Teacher_Rows_With_Targets_In_Batch_Order()
    {
        using var folder = new TempFolder();
        // Each teacher row's first id encodes (example, position) as 10·example + position, so alignment is visible.
        var examples = new[] { new CacheExample([5, 6, 7, 8], [0, 1, 0, 1], 2, [11, 40, 13, 40], [0, -1, 0, -2], [0.5f, 0.25f]),
                               new CacheExample([9, 10, 11], [0, 1, 1], 2, [21, 40, 22, 41], [0, -1, 0, -1], [1, 2]) };
        var settings = CacheManifest.Create(new TeacherFingerprint("c", "w", 50), "sha256:7777777777777777777777777777777777777777777777777777777777777777", "", new DataSource("d", new string('a', 64)), 2, "f32", 16, 2);
        var writer = LogitCacheWriter.Open(folder.Path, settings);
        foreach (var e in examples) writer.Add(e);
        writer.Complete();

        using var scope = NewDisposeScope();
        using var source = new CacheExampleSource(folder.Path, topK: 1);
        var batch = MicroBatch.Build(source, [1, 0], CPU);
        var teacher = new CachedTeacher(source).Signal(batch);
        Assert.Equal(new long[] { 10, 11, 6, 8 }, batch.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 21, 22, 11, 13 }, teacher.TopkIds!.to_type(ScalarType.Int64).data<long>().ToArray());
        Assert.Equal(new long[] { 4, 1 }, teacher.TopkIds.shape);
        Assert.Equal(new[] { 1f, 2f, 0.5f, 0.25f }, teacher.LogSumExp!.data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 4, 6 }, batch.HiddenRows.data<long>().ToArray());
    }

    [Fact]
    public void A_Cached_Teacher_Should_Refuse_Examples_That_Are_Not_The_Caches()
    {
        using var folder = new TempFolder();
        var settings = CacheManifest.Create(new TeacherFingerprint("c", "w", 50), "sha256:" + new string('7', 64), "", new DataSource("d", new string('a', 64)), 2, "f32", 16, 1);
        var writer = LogitCacheWriter.Open(folder.Path, settings);
        writer.Add(new CacheExample([5, 6, 7, 8], [0, 1, 0, 1], 2, [11, 40, 13, 40], [0, -1, 0, -2], [0.5f, 0.25f]));
        writer.Complete();
        using var scope = NewDisposeScope();
        using var source = new CacheExampleSource(folder.Path, topK: null);
        var sampled = MicroBatch.Pack([A], CPU);
        var e = Assert.Throws<InvalidDataException>(() => new CachedTeacher(source).Signal(sampled));
        Assert.Contains("only knows its own examples", e.Message);
    }

    [Theory]
    [InlineData(Models.TinyModels.Vocab, "token id 61 is outside the model's vocabulary [0, 61)")]
    [InlineData(-1, "token id -1 is outside the model's vocabulary [0, 61)")]
    public void Hidden_Should_Name_A_Token_Id_Outside_The_Model_Vocabulary_Before_The_Forward_Pass(int badId, string expected)
    {
        using var scope = NewDisposeScope();
        using var model = Models.TinyModels.Create();
        using var source = new InMemoryExampleSource("mem", [A, new TrainingExample([9, badId, 11], [1, 1, 1])]);
        var batch = MicroBatch.Build(source, [0, 1], CPU);
        var e = Assert.Throws<InvalidDataException>(() => batch.Hidden(model));
        Assert.Equal($"micro-batch of examples 0, 1: {expected}", e.Message);
        Assert.Equal(new long[] { 2, 32 }, MicroBatch.Build(source, [0], CPU).Hidden(model).shape);
    }
}
