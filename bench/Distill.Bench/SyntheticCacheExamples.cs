using Distill.LogitCache;

namespace Distill.Bench;

/// <summary>
/// Random but plausible cache examples: a prompt of 40–60% of the tokens followed by supervised tokens, and per
/// supervised token K distinct teacher ids (the label first most of the time) with descending max-subtracted
/// logits: a confident top-1 gap, then small gaps, as a trained teacher's sorted logits look.
/// </summary>
internal static class SyntheticCacheExamples
{
    public static List<CacheExample> Make(int count, int tokens, int topK, int vocabSize, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => One(random, tokens, topK, vocabSize)).ToList();
    }

    private static CacheExample One(Random random, int tokens, int topK, int vocabSize)
    {
        var inputIds = new int[tokens];
        for (int j = 0; j < tokens; j++) inputIds[j] = random.Next(vocabSize);
        var lossMask = new byte[tokens];
        int prompt = random.Next(tokens * 2 / 5, tokens * 3 / 5);
        Array.Fill(lossMask, (byte)1, prompt, tokens - prompt);
        int rows = tokens - prompt;
        var ids = new int[rows * topK];
        var logits = new float[rows * topK];
        var logSumExp = new float[rows];
        var seen = new HashSet<int>();
        for (int r = 0; r < rows; r++)
        {
            seen.Clear();
            int label = inputIds[prompt + r];
            for (int k = 0; k < topK; k++)
            {
                int id = k == 0 && random.NextDouble() < 0.6 ? label : random.Next(vocabSize);
                while (!seen.Add(id)) id = random.Next(vocabSize);
                ids[r * topK + k] = id;
            }
            logSumExp[r] = Logits(random, logits.AsSpan(r * topK, topK));
        }
        return new CacheExample(inputIds, lossMask, topK, ids, logits, logSumExp);
    }

    /// <summary>Fills one descending row starting at 0; returns its log-sum-exp including a random tail beyond the K.</summary>
    private static float Logits(Random random, Span<float> row)
    {
        double value = 0, sum = 1;
        row[0] = 0;
        for (int k = 1; k < row.Length; k++)
        {
            double meanGap = k == 1 ? 2.0 : 0.1;
            value -= -meanGap * Math.Log(1 - random.NextDouble());
            row[k] = (float)value;
            sum += Math.Exp(row[k]);
        }
        double tail = sum * (0.02 + 0.3 * random.NextDouble());
        return (float)Math.Log(sum + tail);
    }
}
