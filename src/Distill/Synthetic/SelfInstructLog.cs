using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Synthetic;

/// <summary>
/// The files of a self-instruct run and its resume point. The grown instructions and the dropped candidates are
/// appended a round at a time; then a small state file (written to a temporary name and renamed) records the requests
/// done and both files' lengths. Opening cuts both files back to the lengths the state records, so a kill anywhere in a
/// round loses that round's lines only, and the rerun asks its requests again: nothing is lost or duplicated.
/// </summary>
public sealed class SelfInstructLog : IDisposable
{
    private readonly FileStream _instructions;
    private readonly FileStream _rejected;
    private readonly string _statePath;
    private readonly string _seedsHash;

    private SelfInstructLog(FileStream instructions, FileStream rejected, string statePath, string seedsHash, int requests, List<InstructionTask> generated)
    {
        _instructions = instructions;
        _rejected = rejected;
        _statePath = statePath;
        _seedsHash = seedsHash;
        Requests = requests;
        Generated = generated;
    }

    /// <summary>Requests done, in this run and before.</summary>
    public int Requests { get; private set; }

    /// <summary>The instructions an earlier run accepted, in order.</summary>
    public IReadOnlyList<InstructionTask> Generated { get; }

    /// <summary>Opens the files beside <paramref name="output"/>, cut back to the last complete round.</summary>
    /// <exception cref="InvalidDataException">The seeds changed since the files were started, or a file is not one this run wrote.</exception>
    public static SelfInstructLog Open(string output, string seeds)
    {
        var statePath = SelfInstructOptions.StatePath(output);
        var seedsHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(seeds)));
        int requests = 0;
        long instructionsLength = 0, rejectedLength = 0;
        if (File.Exists(statePath))
        {
            try
            {
                var state = JsonNode.Parse(File.ReadAllText(statePath)) ?? throw new InvalidDataException("null");
                if ((string?)state["seeds_sha256"] != seedsHash)
                    throw new InvalidDataException($"{statePath}: the seed tasks in {seeds} changed since this run started; use another --out, or move its files aside to start over");
                requests = (int?)state["requests"] ?? throw new InvalidDataException($"{statePath}: no \"requests\"");
                instructionsLength = (long?)state["instructions_bytes"] ?? throw new InvalidDataException($"{statePath}: no \"instructions_bytes\"");
                rejectedLength = (long?)state["rejected_bytes"] ?? throw new InvalidDataException($"{statePath}: no \"rejected_bytes\"");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{statePath}: not a state file distill generate --self-instruct wrote ({e.Message})", e);
            }
        }
        if (Path.GetDirectoryName(Path.GetFullPath(output)) is { } dir) Directory.CreateDirectory(dir);
        var instructions = Cut(SelfInstructOptions.InstructionsPath(output), instructionsLength);
        var rejected = Cut(SelfInstructOptions.RejectedPath(output), rejectedLength);
        try
        {
            var generated = ReadBack(instructions);
            return new SelfInstructLog(instructions, rejected, statePath, seedsHash, requests, generated);
        }
        catch
        {
            instructions.Dispose();
            rejected.Dispose();
            throw;
        }
    }

    /// <summary>Appends a round's accepted instructions and dropped candidates, then records it as done.</summary>
    public void AppendRound(IReadOnlyList<JsonObject> accepted, IReadOnlyList<JsonObject> rejected, int requestsDone)
    {
        Write(_instructions, accepted);
        Write(_rejected, rejected);
        var state = new JsonObject
        {
            ["seeds_sha256"] = _seedsHash, ["requests"] = requestsDone,
            ["instructions_bytes"] = _instructions.Length, ["rejected_bytes"] = _rejected.Length,
        };
        var temporary = _statePath + ".tmp";
        File.WriteAllText(temporary, state.ToJsonString());
        File.Move(temporary, _statePath, overwrite: true);
        Requests = requestsDone;
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        _instructions.Dispose();
        _rejected.Dispose();
    }

    private static void Write(FileStream stream, IReadOnlyList<JsonObject> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line.ToJsonString()).Append('\n');
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
        stream.Flush(flushToDisk: true); // the state that follows must never count lines the disk may not have
    }

    private static FileStream Cut(string path, long length)
    {
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length < length)
        {
            stream.Dispose();
            throw new InvalidDataException($"{path}: {stream.Length} bytes, shorter than the {length} its state file records; move the run's files aside to start over");
        }
        stream.SetLength(length);
        stream.Seek(length, SeekOrigin.Begin);
        return stream;
    }

    private static List<InstructionTask> ReadBack(FileStream stream)
    {
        stream.Seek(0, SeekOrigin.Begin);
        var tasks = new List<InstructionTask>();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            try
            {
                var node = JsonNode.Parse(line) ?? throw new InvalidDataException("null line");
                tasks.Add(new InstructionTask((string?)node["id"] ?? throw new InvalidDataException("no \"id\""),
                    (string?)node["prompt"] ?? throw new InvalidDataException("no \"prompt\"")));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
            {
                throw new InvalidDataException($"{stream.Name}:{number}: not a line distill generate --self-instruct wrote ({e.Message})", e);
            }
        }
        stream.Seek(0, SeekOrigin.End);
        return tasks;
    }
}
