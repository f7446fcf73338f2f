using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.LogitCache;

namespace Distill.Cli;

/// <summary>The cache branch of <c>distill inspect</c>: a logit cache's size, K, dtypes, top-K mass and teacher entropy.</summary>
internal static class CacheInspection
{
    /// <summary>
    /// True when <paramref name="path"/> is a logit cache folder: it holds part manifests, or a manifest.json and no
    /// config.json (so a damaged manifest is reported as such, not as a model folder missing its config), or a
    /// manifest.json naming the cache format.
    /// </summary>
    public static bool IsCache(string path)
    {
        if (!Directory.Exists(path)) return false;
        if (Directory.GetFiles(path, "manifest.part-*-of-*.json").Length > 0) return true;
        var manifest = Path.Combine(path, CacheFolder.ManifestFileName);
        if (!File.Exists(manifest)) return false;
        if (!File.Exists(Path.Combine(path, "config.json"))) return true;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format)
                && format.ValueKind == JsonValueKind.String && format.GetString() == CacheManifest.FormatName;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Opens the cache (checksums up front unless <paramref name="verify"/> is off), checks every row's values as well
    /// (inspect is where a user asks whether a cache is healthy), then prints its statistics.
    /// </summary>
    public static int Run(ParseResult parsed, string path, bool json, bool verify, JsonSerializerOptions jsonOptions)
    {
        using var reader = LogitCacheReader.Open(path, verify);
        if (verify) reader.VerifyRows();
        var statistics = reader.Statistics();
        var output = parsed.InvocationConfiguration.Output;
        output.Write(json ? Json(statistics, jsonOptions) : Format(path, reader.Manifest, statistics));
        return 0;
    }

    // The snake-case policy would spell LogitDType "logit_d_type"; the manifest calls it "logit_dtype" (and "compute_dtype").
    private static string Json(CacheStatistics statistics, JsonSerializerOptions options)
    {
        var node = JsonSerializer.SerializeToNode(statistics, options)!.AsObject();
        if (node.Remove("logit_d_type", out var dtype)) node["logit_dtype"] = dtype;
        if (node.Remove("compute_d_type", out var compute)) node["compute_dtype"] = compute;
        return node.ToJsonString(options) + "\n";
    }

    private static string Format(string path, CacheManifest m, CacheStatistics s)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        void Line(string key, string value) => text.Append(c, $"{key,-18}{value}\n");
        Line("cache", path);
        Line("examples", s.Examples.ToString("N0", c));
        Line("tokens", s.Tokens.ToString("N0", c));
        Line("supervised rows", s.SupervisedRows.ToString("N0", c));
        Line("top-k", s.TopK.ToString(c));
        Line("dtypes", $"teacher compute {s.ComputeDType ?? "not recorded"}, logits {s.LogitDType}, ids i32, logsumexp f32");
        Line("shards", $"{s.Shards} ({s.TotalBytes.ToString("N0", c)} bytes)");
        Line("bytes/supervised", s.BytesPerSupervisedToken.ToString("0.0", c));
        Line("top-k mass", string.Create(c, $"mean {s.TopKMassMean:0.0000}, 5th percentile {s.TopKMassP5:0.0000}"));
        Line("teacher entropy", string.Create(c, $"mean between {s.EntropyLowerBoundMean:0.000} and {s.EntropyUpperBoundMean:0.000} nats (tail lumped / spread evenly)"));
        Line("max seq len", m.MaxSeqLen.ToString(c));
        Line("teacher", $"vocab {m.Teacher.VocabSize}, config {m.Teacher.ConfigFingerprint}");
        if (m.Teacher.Server is { } server) Line("served by", $"{server.Url} (model {server.Model}, {server.Endpoint} {server.Request})");
        Line("data", m.Data.Size is { } size ? $"{m.Data.Path} (sha256 {m.Data.Sha256}, {size.ToString("N0", c)} bytes)" : $"{m.Data.Path} (sha256 {m.Data.Sha256})");
        if (m.BatchTokens is { } batch) Line("batch tokens", batch.ToString(c));
        return text.ToString();
    }
}
