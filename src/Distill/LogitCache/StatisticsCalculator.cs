namespace Distill.LogitCache;

/// <summary>Scans every row of a cache once to compute <see cref="CacheStatistics"/>.</summary>
internal static class StatisticsCalculator
{
    // The 5th percentile comes from a histogram so memory stays fixed however many rows the cache has.
    private const int MassBins = 1_000_000;

    public static CacheStatistics Compute(CacheManifest manifest, IReadOnlyList<CacheShard> shards)
    {
        var histogram = new long[MassBins + 1];
        double massSum = 0, lowSum = 0, highSum = 0;
        long rows = 0, tokens = 0, bytes = 0;
        var tailLog = manifest.Teacher.VocabSize > manifest.TopK ? Math.Log(manifest.Teacher.VocabSize - manifest.TopK) : 0.0;
        var logits = new float[manifest.TopK];
        foreach (var shard in shards)
        {
            tokens += shard.Entry.Tokens;
            bytes += new FileInfo(shard.Path).Length;
            var view = shard.AllRows();
            for (var r = 0; r < view.Rows; r++)
            {
                view.RowLogits(r, logits);
                var (mass, low) = RowMassAndEntropy(logits, view.LogSumExp[r]);
                var tail = Math.Max(0.0, 1.0 - mass);
                massSum += mass;
                lowSum += low;
                highSum += low + tail * tailLog;
                histogram[Math.Clamp((int)(mass * MassBins), 0, MassBins)]++;
                rows++;
            }
        }
        var mean = (double sum) => rows == 0 ? 0.0 : sum / rows;
        return new CacheStatistics(manifest.ExampleCount, tokens, rows, manifest.TopK, manifest.LogitDType, manifest.ComputeDType, shards.Count, bytes,
            rows == 0 ? 0.0 : (double)bytes / rows, mean(massSum), Percentile5(histogram, rows), mean(lowSum), mean(highSum));
    }

    /// <summary>m = Σ exp(t_k − L) and the lumped-tail entropy −Σ p ln p − (1−m) ln(1−m), with 0·ln 0 = 0.</summary>
    internal static (double Mass, double Entropy) RowMassAndEntropy(ReadOnlySpan<float> logits, float logSumExp)
    {
        double mass = 0, entropy = 0;
        foreach (var t in logits)
        {
            var logP = (double)t - logSumExp;
            var p = Math.Exp(logP);
            mass += p;
            if (p > 0) entropy -= p * logP;
        }
        var tail = 1.0 - mass;
        if (tail > 0) entropy -= tail * Math.Log(tail);
        return (mass, entropy);
    }

    private static double Percentile5(long[] histogram, long rows)
    {
        if (rows == 0) return 0.0;
        var rank = (long)Math.Ceiling(0.05 * rows);
        long seen = 0;
        for (var b = 0; b < histogram.Length; b++)
        {
            seen += histogram[b];
            if (seen >= rank) return (double)b / MassBins;
        }
        return 1.0;
    }
}
