namespace Distill.Tests.Text.Conversations;

/// <summary>A JSONL file in a fresh temp folder, deleted on dispose.</summary>
internal sealed class TempJsonl : IDisposable
{
    private readonly string _folder;

    public TempJsonl(string content)
    {
        _folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distill-conv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        Path = System.IO.Path.Combine(_folder, "data.jsonl");
        File.WriteAllText(Path, content);
    }

    public static TempJsonl FromLines(params string[] lines) => new(string.Join("\n", lines) + "\n");

    public string Path { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
