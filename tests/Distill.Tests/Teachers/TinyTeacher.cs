using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Tests.Models;
using Distill.Tests.Text.Conversations;
using Distill.Text.Conversations;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Teachers;

/// <summary>
/// A temp folder holding a tiny random teacher in Hugging Face layout (the tiny Llama of the model tests, with a
/// vocabulary of 413 to cover the tiny tokenizer's ids up to 409 and a wide initialisation so logits are well spread),
/// the tiny byte-level tokenizer, and chat data with conversations of varied lengths. Deleted on dispose.
/// </summary>
internal sealed class TinyTeacher : IDisposable
{
    public const int Vocab = 413;
    public const string ChatFormat = "chatml";

    private static readonly string[] Words = ["Hello", "Pong", "a", "bc", "Ping", "xyz", "Hell", "on", "Po", "q"];

    public TinyTeacher(int conversations = 7, params string[] extraLines)
        : this(Vocab, 11, conversations, extraLines)
    {
    }

    public TinyTeacher(int vocab, int seed, int conversations, params string[] extraLines)
    {
        Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distill-teacher-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Path = System.IO.Path.Combine(Root, "teacher");
        using (var tokenizer = new TinyModelFolder(eos: "<|im_end|>"))
        using (var model = TinyModels.Create(ConfigJson(vocab), seed: seed))
            HfModelFolder.Save(model, Path, new HfSaveOptions { SourceDirectory = tokenizer.Path });
        Data = System.IO.Path.Combine(Root, "data.jsonl");
        File.WriteAllLines(Data, [.. Enumerable.Range(0, conversations).Select(Line), .. extraLines]);
    }

    public string Root { get; }

    /// <summary>The teacher folder.</summary>
    public string Path { get; }

    /// <summary>The chat data.</summary>
    public string Data { get; }

    public string Sub(string name) => System.IO.Path.Combine(Root, name);

    public static JsonObject ConfigJson(int vocab = Vocab)
    {
        var json = TinyModels.ConfigJson();
        json["vocab_size"] = vocab;
        json["initializer_range"] = 0.5;
        return json;
    }

    public static LlamaForCausalLM Create(ScalarType dtype = ScalarType.Float32) => TinyModels.Create(ConfigJson(), dtype, seed: 11);

    public LlamaForCausalLM Load(ScalarType dtype = ScalarType.Float32) => HfModelFolder.Load(Path, CPU, dtype);

    public ChatTokenizer Chat(int? maxSeqLen = null) => ChatTokenizer.Load(Path, ChatFormat, new ExampleOptions(MaxSeqLen: maxSeqLen));

    /// <summary>The data's examples as the runner tokenizes them.</summary>
    public List<TokenizedExample> Examples(int? maxSeqLen = null) =>
        Chat(maxSeqLen).BuildAll(ConversationReader.Open(Data).Read()).ToList();

    // Lengths vary with i (1 to 13 words per message, two or four messages) so batches need padding.
    private static string Line(int i)
    {
        string Text(int n) => string.Join(' ', Enumerable.Range(0, n).Select(w => Words[(i * 7 + w * 3) % Words.Length]));
        var messages = new JsonArray
        {
            new JsonObject { ["role"] = "user", ["content"] = Text(1 + i % 4) },
            new JsonObject { ["role"] = "assistant", ["content"] = Text(1 + (i * 5) % 13) },
        };
        if (i % 3 == 1)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = Text(2) });
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = Text(1 + i % 5) });
        }
        return new JsonObject { ["messages"] = messages }.ToJsonString();
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
