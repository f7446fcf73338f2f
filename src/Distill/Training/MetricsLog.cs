using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Training;

/// <summary>
/// <c>metrics.jsonl</c>: one JSON object per optimizer step (step, loss, kd, sft, lr, tokens_per_s, grad_norm) and one
/// per validation (<c>"validation": true</c>). Each line is flushed as written, so a killed run keeps what it logged.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    /// <summary>The file name in the output folder.</summary>
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _writer;

    /// <summary>
    /// Opens the log of <paramref name="outDir"/>. When resuming after <paramref name="keepThroughStep"/> steps, rows of
    /// later steps (logged after the checkpoint by the interrupted run) are dropped; otherwise the file starts empty.
    /// </summary>
    public MetricsLog(string outDir, int? keepThroughStep)
    {
        Path = System.IO.Path.Combine(outDir, FileName);
        var kept = keepThroughStep is { } last && File.Exists(Path)
            ? File.ReadAllLines(Path).Where(l => StepOf(l) is { } s && s <= last).ToArray()
            : [];
        _writer = new StreamWriter(Path, append: false, new UTF8Encoding(false));
        foreach (var line in kept) _writer.WriteLine(line);
        _writer.Flush();
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>Appends one row; non-finite numbers are written as null (JSON has no NaN).</summary>
    public void Write(IReadOnlyDictionary<string, object?> row)
    {
        var json = new JsonObject();
        foreach (var (key, value) in row)
            json[key] = value switch
            {
                double d when !double.IsFinite(d) => null,
                double d => JsonValue.Create(d),
                long l => JsonValue.Create(l),
                int i => JsonValue.Create(i),
                bool b => JsonValue.Create(b),
                null => null,
                _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
            };
        _writer.WriteLine(json.ToJsonString());
        _writer.Flush();
    }

    /// <summary>Reads every row of a log.</summary>
    public static IReadOnlyList<JsonObject> Read(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();

    private static int? StepOf(string line)
    {
        try
        {
            return JsonNode.Parse(line)?["step"]?.GetValue<int>();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
