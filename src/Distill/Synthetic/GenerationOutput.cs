using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Synthetic;

/// <summary>
/// The output JSONL of <c>distill generate</c> and its side file of failures, append-only and resumable. A prompt's
/// responses are written as one group of lines in one write; a prompt is done when its whole group is in the file.
/// Opening repairs what a kill can leave, which is only ever at the end: a last line without its newline, and a last
/// group with fewer lines than its <c>group_size</c> (the responses kept after the filters); both are cut off (that prompt is answered again), so nothing is lost or
/// duplicated.
/// </summary>
public sealed class GenerationOutput : IDisposable
{
    private readonly FileStream _output;
    private readonly string _failedPath;
    private readonly Lock _lock = new();
    private FileStream? _failed; // opened at the first failure, so a clean run leaves no empty side file
    private FileStream? _rejected;
    private string _rejectedPath = "";

    private GenerationOutput(FileStream output, string failedPath, HashSet<string> done, Dictionary<string, string> failedEarlier)
    {
        _output = output;
        _failedPath = failedPath;
        Done = done;
        FailedEarlier = failedEarlier;
    }

    /// <summary>Prompt ids whose responses are in the output.</summary>
    public IReadOnlySet<string> Done { get; }

    /// <summary>Prompt ids recorded as failed and not done since, with the last reason.</summary>
    public IReadOnlyDictionary<string, string> FailedEarlier { get; }

    /// <summary>Opens (creating) the output and reads the failures and rejections files, repairing torn ends.</summary>
    /// <param name="output">The output JSONL.</param>
    /// <param name="failed">Prompts that failed, with the reason.</param>
    /// <param name="rejected">Responses the filters rejected; a prompt all of whose responses were rejected counts as done.</param>
    public static GenerationOutput Open(string output, string failed, string rejected)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(output)) is { } dir) Directory.CreateDirectory(dir);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var outputStream = new FileStream(output, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var end = Scan(outputStream, output, GroupOf, done);
            outputStream.SetLength(end);
            outputStream.Seek(end, SeekOrigin.Begin);
            var failures = new Dictionary<string, string>(StringComparer.Ordinal);
            if (File.Exists(failed))
            {
                using var failedStream = new FileStream(failed, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                failedStream.SetLength(ScanFailures(failedStream, failures));
            }
            if (File.Exists(rejected))
            {
                using var rejectedStream = new FileStream(rejected, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                long keep = 0;
                foreach (var (line, next) in Lines(rejectedStream))
                {
                    if (TryParse(line) is { } node && (bool?)node["all_rejected"] == true && (string?)node["prompt_id"] is { } id) done.Add(id);
                    keep = next;
                }
                rejectedStream.SetLength(keep);
            }
            foreach (var id in done) failures.Remove(id);
            return new GenerationOutput(outputStream, failed, done, failures) { _rejectedPath = rejected };
        }
        catch
        {
            outputStream.Dispose();
            throw;
        }
    }

    /// <summary>Appends a prompt's responses as one write and flushes it to the operating system.</summary>
    public void Append(IReadOnlyList<JsonObject> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line.ToJsonString()).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (_lock)
        {
            _output.Write(bytes);
            _output.Flush();
        }
    }

    /// <summary>Records a prompt that failed, with why.</summary>
    public void AppendFailure(string id, string reason, int attempts)
    {
        var line = new JsonObject { ["prompt_id"] = id, ["error"] = reason, ["attempts"] = attempts }.ToJsonString() + "\n";
        lock (_lock)
        {
            _failed ??= new FileStream(_failedPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            _failed.Write(Encoding.UTF8.GetBytes(line));
            _failed.Flush();
        }
    }

    /// <summary>
    /// Records responses the filters rejected, with why. Written before the prompt's kept responses, so a kill between the
    /// two can only repeat a rejection, never lose a kept response; <paramref name="allRejected"/> marks the prompt done.
    /// </summary>
    public void AppendRejected(string id, IReadOnlyList<(int Choice, string Content, string Reason)> responses, bool allRejected)
    {
        var text = new StringBuilder();
        foreach (var (choice, content, reason) in responses)
        {
            var line = new JsonObject { ["prompt_id"] = id, ["choice"] = choice, ["reason"] = reason, ["content"] = content };
            if (allRejected) line["all_rejected"] = true;
            text.Append(line.ToJsonString()).Append('\n');
        }
        lock (_lock)
        {
            _rejected ??= new FileStream(_rejectedPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            _rejected.Write(Encoding.UTF8.GetBytes(text.ToString()));
            _rejected.Flush();
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        _output.Dispose();
        _failed?.Dispose();
        _rejected?.Dispose();
    }

    // Reads complete lines; returns the length to keep: up to the end of the last complete group.
    private static long Scan(FileStream stream, string path, Func<string, (string Id, int Choice, int N)> parse, HashSet<string> done)
    {
        long keep = 0, offset = 0;
        string? groupId = null;
        var groupSeen = 0;
        var groupN = 0;
        var number = 0;
        foreach (var (line, next) in Lines(stream))
        {
            number++;
            (string Id, int Choice, int N) entry;
            try
            {
                entry = parse(line);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{number}: not a line distill generate wrote ({e.Message}); move the file aside to start over", e);
            }
            if (entry.Id != groupId)
            {
                if (groupId is not null && groupSeen < groupN)
                    throw new InvalidDataException($"{path}:{number}: prompt \"{groupId}\" has {groupSeen} of its {groupN} responses before another prompt starts");
                groupId = entry.Id;
                groupSeen = 0;
                groupN = entry.N;
            }
            groupSeen++;
            offset = next;
            if (groupSeen == groupN)
            {
                done.Add(groupId);
                keep = offset;
            }
        }
        return keep;
    }

    private static long ScanFailures(FileStream stream, Dictionary<string, string> failures)
    {
        long keep = 0;
        foreach (var (line, next) in Lines(stream))
        {
            try
            {
                var node = JsonNode.Parse(line) ?? throw new InvalidDataException("null line");
                failures[(string?)node["prompt_id"] ?? throw new InvalidDataException("no \"prompt_id\"")] = (string?)node["error"] ?? "";
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new InvalidDataException($"{stream.Name}: not a failures file distill generate wrote ({e.Message})", e);
            }
            keep = next;
        }
        return keep;
    }

    private static JsonNode? TryParse(string line)
    {
        try
        {
            return JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string Id, int Choice, int N) GroupOf(string line)
    {
        var node = JsonNode.Parse(line) ?? throw new InvalidDataException("null line");
        var id = (string?)node["prompt_id"] ?? throw new InvalidDataException("no \"prompt_id\"");
        var n = (int?)node["group_size"] ?? (int?)node["sampling"]?["n"] ?? throw new InvalidDataException("no \"group_size\"");
        return (id, (int?)node["choice"] ?? 0, n);
    }

    // Complete ('\n'-terminated) lines with the offset just after each; a torn last line is not returned.
    private static IEnumerable<(string Line, long Next)> Lines(FileStream stream)
    {
        stream.Seek(0, SeekOrigin.Begin);
        var buffer = new MemoryStream();
        long offset = 0;
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            offset++;
            if (b != '\n')
            {
                buffer.WriteByte((byte)b);
                continue;
            }
            var line = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            buffer.SetLength(0);
            if (line.Trim().Length > 0) yield return (line, offset);
        }
    }
}
