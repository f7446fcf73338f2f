using System.Globalization;
using System.Text.Json;

namespace Distill.LogitCache;

/// <summary>Writes one cached example as one NeMo-Aligner KD line (see docs/FORMAT.md, "NeMo-Aligner interop").</summary>
internal static class NemoJsonlWriter
{
    /// <summary>The metadata key carrying the unpadded length, so an import strips padding exactly.</summary>
    public const string LengthKey = "distill_length";

    public static void WriteLine(Utf8JsonWriter json, CacheExampleView example, int padId, int padMultiple)
    {
        var ids = example.InputIds;
        var mask = example.LossMask;
        var real = ids.Length - 1; // tokens = input_ids[:-1], labels = input_ids[1:]
        var context = mask.LastIndexOf((byte)0) + 1; // NeMo: context = up to and including the last unsupervised token
        var length = (Math.Max(real, context) + padMultiple - 1) / padMultiple * padMultiple;

        json.WriteStartObject();
        WritePadded(json, "tokens", ids[..real], length, padId);
        WritePadded(json, "labels", ids[1..], length, padId);
        json.WriteStartArray("loss_mask");
        for (var i = 0; i < length; i++) json.WriteNumberValue(i < real ? mask[i + 1] : 0);
        json.WriteEndArray();
        WritePadded(json, "contexts", ids[..context], length, padId);
        json.WriteNumber("context_lengths", context);
        WritePadded(json, "answers", ids[context..], length, padId);
        json.WriteStartObject("metadata");
        json.WriteNumber(LengthKey, ids.Length);
        json.WriteEndObject();
        WriteRows(json, example, real, length, padId);
        json.WriteNumber("index", example.Index);
        json.WriteEndObject();
    }

    private static void WritePadded(Utf8JsonWriter json, string name, ReadOnlySpan<int> values, int length, int padId)
    {
        json.WriteStartArray(name);
        for (var i = 0; i < length; i++) json.WriteNumberValue(i < values.Length ? values[i] : padId);
        json.WriteEndArray();
    }

    // Row i is the teacher's prediction of labels[i]; rows NeMo would not train on (unsupervised or padding) are
    // filled the way NeMo's KD collate pads: ids = pad id, logits 0 (log-sum-exp 0).
    private static void WriteRows(Utf8JsonWriter json, CacheExampleView example, int real, int length, int padId)
    {
        var k = example.Width;
        var supervised = new int[length];
        Array.Fill(supervised, -1);
        var r = 0;
        for (var i = 0; i < real; i++)
            if (example.LossMask[i + 1] == 1) supervised[i] = r++;

        var logits = new float[k];
        json.WriteStartArray("topk_logits");
        foreach (var row in supervised)
        {
            if (row >= 0) example.RowLogits(row, logits);
            else Array.Clear(logits);
            json.WriteStartArray();
            foreach (var v in logits) WriteFloat(json, v);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("topk_token_ids");
        foreach (var row in supervised)
        {
            json.WriteStartArray();
            for (var c = 0; c < k; c++) json.WriteNumberValue(row >= 0 ? example.RowIds(row)[c] : padId);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("log_sum_exp_logits");
        foreach (var row in supervised) WriteFloat(json, row >= 0 ? example.LogSumExp[row] : 0f);
        json.WriteEndArray();
    }

    // The exact double value of the float in shortest round-trip form: what Python's json writes for a float32
    // tensor's .tolist(), and parsed back as a double then narrowed, it is the same float bit for bit.
    private static void WriteFloat(Utf8JsonWriter json, float value)
    {
        if (!float.IsFinite(value)) throw new InvalidDataException($"value {value} cannot be written as JSON");
        json.WriteRawValue(((double)value).ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
    }
}
