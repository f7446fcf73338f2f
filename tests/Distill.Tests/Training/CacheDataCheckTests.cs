using System.Security.Cryptography;
using Distill.LogitCache;
using Distill.Training;

namespace Distill.Tests.Training;

public sealed class CacheDataCheckTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly string _student;
    private readonly string _cache;
    private readonly string _data;

    public CacheDataCheckTests()
    {
        _student = TrainingTestData.StudentFolder(_folder.Sub("student"));
        using var teacher = TrainingTestData.Model(99, initRange: 0.3);
        _cache = TrainingTestData.Cache(_folder.Sub("cache"), TrainingTestData.Examples(6, seed: 1), teacher, topK: 4);
        _data = _folder.Sub("train.jsonl");
        File.WriteAllText(_data, "{\"messages\": []}\n");
        RecordData(DataSource.Of(_data));
    }

    public void Dispose() => _folder.Dispose();

    // The cache's examples stay as they are; only what the manifest says about their source changes.
    private void RecordData(DataSource data)
    {
        var path = Path.Combine(_cache, CacheFolder.ManifestFileName);
        (CacheManifest.Load(path) with { Data = data }).Save(path);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Check_Should_Pass_When_The_File_At_The_Recorded_Path_Has_The_Recorded_Bytes()
    {
        using var source = new CacheExampleSource(_cache, null);

        Assert.Null(CacheDataCheck.Check(source));
    }

    [Fact]
    public void Check_Should_Refuse_A_Cache_Whose_Data_File_Was_Edited_Naming_Both_Hashes()
    {
        var recorded = Sha256(_data);
        File.AppendAllText(_data, "{\"messages\": []}\n");
        using var source = new CacheExampleSource(_cache, null);

        var error = Assert.Throws<InvalidDataException>(() => CacheDataCheck.Check(source));

        Assert.Contains($"the data file {_data} has changed", error.Message, StringComparison.Ordinal);
        Assert.Contains($"data.sha256 {recorded}, 17 bytes in the manifest", error.Message, StringComparison.Ordinal);
        Assert.Contains($"now has sha256 {Sha256(_data)}, 34 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Should_Compare_Content_Of_A_Version_1_Record_Without_Size()
    {
        RecordData(new DataSource(_data, Sha256(_data)));
        using (var same = new CacheExampleSource(_cache, null))
            Assert.Null(CacheDataCheck.Check(same));

        File.WriteAllText(_data, "{\"messages\": [1]}");
        using var edited = new CacheExampleSource(_cache, null);
        Assert.Throws<InvalidDataException>(() => CacheDataCheck.Check(edited));
    }

    [Theory]
    [InlineData("absent")]
    [InlineData("relative")]
    [InlineData("import")]
    public void Check_Should_Only_Note_A_Data_File_It_Cannot_Find(string kind)
    {
        var recorded = kind switch
        {
            "absent" => _folder.Sub("elsewhere.jsonl"),
            "relative" => "train.jsonl",
            _ => _data + Path.PathSeparator + _data,
        };
        RecordData(new DataSource(recorded, new string('f', 64), 99));
        using var source = new CacheExampleSource(_cache, null);

        var note = CacheDataCheck.Check(source);

        Assert.Equal($"{_cache}: its data file ({recorded}) is not here to compare with; training from the cache as it is", note);
    }

    [Fact]
    public void Train_Should_Refuse_Before_Any_Step_When_The_Data_File_Changed()
    {
        File.AppendAllText(_data, "\n");
        var outDir = _folder.Sub("out");

        var error = Assert.Throws<InvalidDataException>(() => Trainer.Run(TrainingTestData.Config(_student, _cache, outDir, "steps=2")));

        Assert.Contains("has changed since the cache was written", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(outDir, MetricsLog.FileName)));
    }

    [Fact]
    public void Train_Should_Run_From_The_Cache_When_Its_Data_File_Is_On_Another_Machine()
    {
        File.Delete(_data);
        var notes = new List<string>();

        var result = Trainer.Run(TrainingTestData.Config(_student, _cache, _folder.Sub("out"), "steps=2"),
            new SyncProgress(p => { if (p.Message is { } m) notes.Add(m); }));

        Assert.Equal(2, result.Steps);
        Assert.Contains(notes, n => n.Contains($"its data file ({_data}) is not here", StringComparison.Ordinal));
    }
}
