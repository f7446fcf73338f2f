using System.Text.Json;
using Distill.Text;
using Distill.Text.Templates;
using Distill.Text.Tokenization;

namespace Distill.Samples;

/// <summary>
/// The bundled sample's tokenizer: a byte-level BPE trained with <see cref="BpeTrainer"/> on the training
/// conversations rendered in ChatML, every digit a token of its own (<see cref="BpeTrainer.SingleDigitRegex"/>: a
/// number's tokens are its digits, so adding column by column is a rule over ten tokens, not over a thousand), written as a Hugging Face tokenizer.json + tokenizer_config.json with the
/// ChatML chat template. <c>&lt;|im_start|&gt;</c> is bos, <c>&lt;|im_end|&gt;</c> eos (it closes every turn, so
/// greedy decoding stops there), <c>&lt;|endoftext|&gt;</c> pad.
/// </summary>
public static class SampleTokenizer
{
    /// <summary>The special tokens, in id order just past the trained vocabulary.</summary>
    public static readonly IReadOnlyList<string> SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>The trained vocabulary target of the committed tokenizer (the special tokens come on top).</summary>
    public const int DefaultVocabSize = 1024;

    /// <summary>Trains on <paramref name="lines"/> (JSONL conversations) and writes the two tokenizer files into <paramref name="folder"/>.</summary>
    /// <returns>The full vocabulary size (trained tokens plus special tokens), the model's vocab_size.</returns>
    public static int Write(string folder, IEnumerable<string> lines, int vocabSize = DefaultVocabSize)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var template = ChatTemplate.BuiltIn("chatml");
        var documents = lines.Select((line, i) => template.Render(Messages(line, i + 1), addGenerationPrompt: false)).ToList();
        var tokens = BpeTrainer.Train(documents, vocabSize, BpeTrainer.SingleDigitRegex);
        Directory.CreateDirectory(folder);
        ByteLevelTokenizerFiles.WriteTokenizerJson(folder, tokens, SpecialTokens, BpeTrainer.SingleDigitRegex);
        WriteConfig(Path.Combine(folder, "tokenizer_config.json"), template.Source);
        return tokens.Count + SpecialTokens.Count;
    }

    /// <summary>
    /// The conversations the committed tokenizer is trained on, in order: the teacher's set and the sample's first
    /// student set (<see cref="SampleGenerator.Sets.FirstTrain"/>). It is the teacher's tokenizer, so it stays as the
    /// teacher was trained with; the current student set uses no word it lacks.
    /// </summary>
    public static IEnumerable<string> TrainingLines(SampleGenerator.Sets sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        return sets.TeacherTrain.Concat(sets.FirstTrain);
    }

    private static void WriteConfig(string path, string chatTemplate)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        json.WriteString("bos_token", SpecialTokens[1]);
        json.WriteString("eos_token", SpecialTokens[2]);
        json.WriteString("pad_token", SpecialTokens[0]);
        json.WriteNumber("model_max_length", 512);
        json.WriteString("chat_template", chatTemplate);
        json.WriteEndObject();
    }

    private static List<ChatMessage> Messages(string line, int number)
    {
        using var doc = JsonDocument.Parse(line);
        if (!doc.RootElement.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"sample tokenizer: conversation {number} has no \"messages\" array");
        return [.. messages.EnumerateArray().Select(m => new ChatMessage(m.GetProperty("role").GetString() ?? "", m.GetProperty("content").GetString() ?? ""))];
    }
}
