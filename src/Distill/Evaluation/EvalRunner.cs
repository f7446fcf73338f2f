using Distill.Models;
using Distill.Tensors;
using Distill.Text.Conversations;
using Distill.Text.Tokenization;
using Distill.Training;

namespace Distill.Evaluation;

/// <summary>Loads what <see cref="EvalOptions"/> names and evaluates it: the whole of <c>distill eval</c> but the printing.</summary>
public static class EvalRunner
{
    /// <summary>Tokenizes the data with the model's chat template, evaluates, and generates when asked.</summary>
    /// <exception cref="ArgumentException">Inconsistent options (both a teacher and a cache, sizes below 1).</exception>
    /// <exception cref="InvalidDataException">The data, model, teacher or cache is unusable or they do not fit together.</exception>
    public static EvalResult Run(EvalOptions o)
    {
        if (o.Teacher is not null && o.Cache is not null) throw new ArgumentException("give --teacher or --cache, not both");
        if (o.BatchSize < 1) throw new ArgumentException($"--batch-size {o.BatchSize} must be >= 1");
        if (o.MaxNewTokens < 1) throw new ArgumentException($"--max-new-tokens {o.MaxNewTokens} must be >= 1");
        if (!File.Exists(o.Data)) throw new FileNotFoundException($"{o.Data}: held-out data not found", o.Data);
        var device = Devices.Parse(o.Device);
        var dtype = Devices.ParseComputeDType(o.DType);
        var chat = ChatTokenizer.Load(o.Model, o.ChatFormat, new ExampleOptions(MaxSeqLen: ContextLength.Resolve(o.MaxSeqLen, o.Model)));
        var conversations = ConversationReader.Open(o.Data).Read().ToList();
        var examples = chat.BuildAll(conversations).Select(e => new TrainingExample(e.InputIds, e.LossMask)).ToList();
        if (examples.Count == 0) throw new InvalidDataException($"{o.Data}: no conversations");
        using var student = HfModelFolder.Load(o.Model, device, dtype);
        student.eval();
        var metrics = Metrics(o, student, chat, examples);
        if (!o.Generate) return metrics;
        var stop = GenerationEval.StopIds(student.Config, chat);
        return metrics with { Generation = GenerationEval.Run(student, chat, conversations, o.MaxNewTokens, stop) };
    }

    private static EvalResult Metrics(EvalOptions o, LlamaForCausalLM student, ChatTokenizer chat, List<TrainingExample> examples)
    {
        if (o.Cache is not null)
        {
            using var cache = new CacheExampleSource(o.Cache, null, o.Verify);
            StudentCompatibility.Check(student.Config, o.Model, cache);
            return Evaluator.Run(student, examples, cache, o.BatchSize);
        }
        if (o.Teacher is null) return Evaluator.Run(student, examples, teacher: null, o.BatchSize);
        if (HfTokenizer.Load(o.Teacher).Fingerprint != chat.Tokenizer.Fingerprint)
            throw new InvalidDataException($"{o.Teacher}: the teacher's tokenizer differs from the model's; KL needs one tokenizer");
        using var teacher = HfModelFolder.Load(o.Teacher, student.Device, student.DType);
        teacher.eval();
        return Evaluator.Run(student, examples, teacher, o.BatchSize);
    }
}
