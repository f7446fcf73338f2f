using System.CommandLine;
using Distill.Cli;
using Distill.LogitCache;
using Distill.Tensors;
using Distill.Tests.LogitCache;
using Distill.Tests.Training;
using TorchSharp;

namespace Distill.Tests.Cli;

/// <summary>inspect, train and convert refuse a corrupt cache unless --no-verify; inspect also checks every row.</summary>
public sealed class CacheVerifyCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _shard;

    public CacheVerifyCommandTests()
    {
        CacheTestData.WriteAll(_temp.Path, CacheTestData.Settings(6, 4), new LogitCacheWriterOptions(ExamplesPerShard: 3));
        _shard = Path.Combine(_temp.Path, "shard-000000003-000000006.safetensors");
    }

    public void Dispose() => _temp.Dispose();

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var root = new RootCommand { InspectCommand.Create(), TrainCommand.Create(), ConvertCommand.Create() };
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private void FlipLogSumExpBit()
    {
        long begin;
        using (var file = SafetensorsFile.Open(_shard)) begin = file.Info("logsumexp").Begin;
        var bytes = File.ReadAllBytes(_shard);
        bytes[8 + (long)BitConverter.ToUInt64(bytes, 0) + begin] ^= 0x01;
        File.WriteAllBytes(_shard, bytes);
    }

    [Fact]
    public void Inspect_Train_And_Export_Should_Refuse_A_Flipped_Bit_Unless_No_Verify()
    {
        FlipLogSumExpBit();
        using var folder = new TempFolder();
        var student = TrainingTestData.StudentFolder(folder.Sub("student"));

        var inspect = Run("inspect", _temp.Path);
        var train = Run("train", "--student", student, "--data", _temp.Path, "--out", folder.Sub("out"), "--steps", "1", "--global-batch", "2");
        var export = Run("convert", "nemo-export", "--cache", _temp.Path, "--out", folder.Sub("nemo"), "--pad-id", "0");
        var unverified = Run("inspect", _temp.Path, "--no-verify");

        foreach (var (exit, _, error) in new[] { inspect, train, export })
        {
            Assert.Equal(1, exit);
            Assert.Contains($"{_shard}: checksum mismatch", error, StringComparison.Ordinal);
        }
        Assert.True(unverified.Exit == 0, unverified.Error);
    }

    [Fact]
    public void Inspect_Should_Name_Shard_And_Row_Of_A_NaN_Log_Sum_Exp_Behind_A_Valid_Checksum()
    {
        CacheTestData.RewriteShard(_shard, (name, t) => name == "logsumexp" ? t.index_fill(0, torch.tensor(2L), float.NaN) : t);
        CacheTestData.RecordChecksum(_temp.Path, _shard);

        var (exit, _, error) = Run("inspect", _temp.Path);

        Assert.Equal(1, exit);
        Assert.Equal($"distill inspect: {_shard}: row 2: logsumexp is NaN (expected finite and ≥ 0)", error.Trim());
    }

    [Fact]
    public void Inspect_Of_A_Cache_With_A_Damaged_Manifest_Should_Name_The_Manifest()
    {
        var manifest = Path.Combine(_temp.Path, CacheFolder.ManifestFileName);
        File.WriteAllText(manifest, "{\"format\": \"distill-logit-cache\", \"version\": ");

        var (exit, _, error) = Run("inspect", _temp.Path);

        Assert.Equal(1, exit);
        Assert.StartsWith($"distill inspect: {manifest}: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("config.json", error, StringComparison.Ordinal);
    }
}
