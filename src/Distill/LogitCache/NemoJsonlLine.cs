using System.Text.Json;

namespace Distill.LogitCache;

/// <summary>Parses one NeMo-Aligner KD line back into a <see cref="CacheExample"/>: row i predicts labels[i]; only rows with loss_mask 1 are kept.</summary>
internal static class NemoJsonlLine
{
    /// <summary>The line's <c>index</c>.</summary>
    public static long Index(JsonElement root) => Required(root, "index").GetInt64();

    public static CacheExample Parse(JsonElement root)
    {
        var tokens = Ints(Required(root, "tokens"), "tokens");
        var labels = Ints(Required(root, "labels"), "labels");
        var lossMask = Mask(Required(root, "loss_mask"));
        var topIds = Required(root, "topk_token_ids");
        var topLogits = Required(root, "topk_logits");
        var lse = Required(root, "log_sum_exp_logits");
        var s = tokens.Length;
        if (s == 0) throw new FormatException("tokens is empty");
        if (labels.Length != s || lossMask.Length != s || topIds.GetArrayLength() != s || topLogits.GetArrayLength() != s || lse.GetArrayLength() != s)
            throw new FormatException($"tokens, labels, loss_mask, topk_token_ids, topk_logits and log_sum_exp_logits must all have {s} entries");
        var real = RealLength(root, tokens, labels, lossMask);
        for (var i = 0; i + 1 < real; i++)
            if (tokens[i + 1] != labels[i]) throw new FormatException($"labels[{i}] = {labels[i]} but tokens[{i + 1}] = {tokens[i + 1]}");
        for (var i = real; i < s; i++)
            if (lossMask[i] != 0) throw new FormatException($"loss_mask[{i}] is 1 inside the padding");

        var inputIds = new int[real + 1];
        Array.Copy(tokens, inputIds, real);
        inputIds[real] = labels[real - 1];
        var mask = new byte[real + 1];
        Array.Copy(lossMask, 0, mask, 1, real);
        return Rows(inputIds, mask, topIds, topLogits, lse);
    }

    // Our exports record the unpadded length in metadata; for NeMo's own files, trailing positions that look like
    // its padding (token == label == the last label, loss_mask 0) are stripped. Supervised rows are never stripped.
    private static int RealLength(JsonElement root, int[] tokens, int[] labels, byte[] lossMask)
    {
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty(NemoJsonlWriter.LengthKey, out var length))
        {
            var l = length.GetInt32();
            if (l < 2 || l > tokens.Length + 1) throw new FormatException($"metadata.{NemoJsonlWriter.LengthKey} = {l} does not fit {tokens.Length} tokens");
            return l - 1;
        }
        var pad = labels[^1];
        var real = tokens.Length;
        while (real > 1 && lossMask[real - 1] == 0 && tokens[real - 1] == pad && labels[real - 1] == pad) real--;
        return real;
    }

    private static CacheExample Rows(int[] inputIds, byte[] mask, JsonElement topIds, JsonElement topLogits, JsonElement lse)
    {
        var positions = Enumerable.Range(1, inputIds.Length - 1).Where(j => mask[j] == 1).ToArray();
        var k = topIds[0].GetArrayLength();
        var ids = new int[positions.Length * k];
        var logits = new float[positions.Length * k];
        var sums = new float[positions.Length];
        for (var r = 0; r < positions.Length; r++)
        {
            var i = positions[r] - 1; // row i of the file predicts labels[i] = input_ids[i + 1]
            var idRow = topIds[i];
            var logitRow = topLogits[i];
            if (idRow.GetArrayLength() != k || logitRow.GetArrayLength() != k)
                throw new FormatException($"row {i}: topk_token_ids and topk_logits must have {k} entries");
            for (var c = 0; c < k; c++)
            {
                ids[r * k + c] = idRow[c].GetInt32();
                logits[r * k + c] = (float)logitRow[c].GetDouble();
            }
            sums[r] = (float)lse[i].GetDouble();
        }
        return new CacheExample(inputIds, mask, k, ids, logits, sums);
    }

    private static JsonElement Required(JsonElement root, string key) =>
        root.TryGetProperty(key, out var value) ? value : throw new FormatException($"key '{key}' is missing");

    private static int[] Ints(JsonElement array, string key)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new FormatException($"'{key}' is not an array");
        var values = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var v in array.EnumerateArray()) values[i++] = v.GetInt32();
        return values;
    }

    // NeMo writes the mask as ints, but some of its datasets build it from floats; both 0/1 spellings are accepted.
    private static byte[] Mask(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new FormatException("'loss_mask' is not an array");
        var values = new byte[array.GetArrayLength()];
        var i = 0;
        foreach (var v in array.EnumerateArray())
        {
            var d = v.GetDouble();
            values[i++] = d switch { 0 => 0, 1 => 1, _ => throw new FormatException($"loss_mask[{i}] is {d} (expected 0 or 1)") };
        }
        return values;
    }
}
