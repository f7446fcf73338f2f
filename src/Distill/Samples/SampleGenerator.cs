using System.Text;
using System.Text.Json;

namespace Distill.Samples;

/// <summary>
/// Generates the bundled sample: small arithmetic chat conversations in Hugging Face <c>messages</c> JSONL.
/// Every assistant answer ends with <see cref="ArithmeticProblem.AnswerSentence"/> ("The answer is 42."), so
/// held-out accuracy can be scored by exact match. Output depends only on the seed (System.Random with a seed
/// is stable across runtimes), and held-out problems never appear in training, whatever the phrasing.
/// </summary>
public static class SampleGenerator
{
    /// <summary>The seed the committed samples/data files were generated with.</summary>
    public const int DefaultSeed = 6;

    /// <summary>Conversations in the committed train.jsonl.</summary>
    public const int DefaultTrainCount = 2000;

    /// <summary>Conversations (one per distinct problem) in the committed heldout.jsonl.</summary>
    public const int DefaultHeldOutCount = 200;

    /// <summary>Every problem the sample draws from, in a fixed order.</summary>
    public static IReadOnlyList<ArithmeticProblem> AllProblems()
    {
        var problems = new List<ArithmeticProblem>();
        for (int a = 1; a <= 20; a++)
        {
            for (int b = 1; b <= 20; b++)
            {
                problems.Add(new("add", a, b));
                if (a > b) problems.Add(new("subtract", a, b));
                if (a != b) problems.Add(new("compare", a, b));
                if (a is >= 2 and <= 9 && b is >= 2 and <= 9) problems.Add(new("multiply", a, b));
            }
        }
        return problems;
    }

    /// <summary>
    /// Splits the problems by a seeded shuffle (the first <paramref name="heldOutCount"/> are held out), then
    /// draws <paramref name="trainCount"/> training conversations from the rest, each with a random phrasing.
    /// </summary>
    /// <returns>Train and held-out conversations, each a JSONL line.</returns>
    public static (IReadOnlyList<string> Train, IReadOnlyList<string> HeldOut) Generate(
        int seed = DefaultSeed, int trainCount = DefaultTrainCount, int heldOutCount = DefaultHeldOutCount)
    {
        var problems = AllProblems().ToArray();
        if (heldOutCount < 1 || heldOutCount >= problems.Length)
            throw new ArgumentOutOfRangeException(nameof(heldOutCount), heldOutCount, $"must be in [1, {problems.Length - 1}]");
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        var random = new Random(seed);
        random.Shuffle(problems);
        var heldOut = problems[..heldOutCount].Select(p => Line(p, random)).ToList();
        var pool = problems[heldOutCount..];
        var train = new List<string>(trainCount);
        for (int i = 0; i < trainCount; i++)
            train.Add(Line(pool[random.Next(pool.Length)], random));
        return (train, heldOut);
    }

    /// <summary>Writes train.jsonl and heldout.jsonl into <paramref name="folder"/> (created if missing).</summary>
    public static void Write(string folder, int seed = DefaultSeed, int trainCount = DefaultTrainCount, int heldOutCount = DefaultHeldOutCount)
    {
        var (train, heldOut) = Generate(seed, trainCount, heldOutCount);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "train.jsonl"), string.Concat(train.Select(l => l + "\n")), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "heldout.jsonl"), string.Concat(heldOut.Select(l => l + "\n")), new UTF8Encoding(false));
    }

    /// <summary>One conversation: a random question wording, a random answer wording, then the fixed answer sentence.</summary>
    public static (string User, string Assistant) Conversation(ArithmeticProblem problem, Random random)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(random);
        string question = Pick(SamplePhrasings.Questions(problem.Kind), random);
        string answer = Pick(SamplePhrasings.Answers(problem.Kind), random);
        string name = Pick(SamplePhrasings.Names, random);
        string item = Pick(SamplePhrasings.Items, random);
        string Fill(string s) => s.Replace("{a}", Num(problem.A), StringComparison.Ordinal).Replace("{b}", Num(problem.B), StringComparison.Ordinal)
            .Replace("{c}", Num(problem.Answer), StringComparison.Ordinal).Replace("{n}", name, StringComparison.Ordinal)
            .Replace("{x}", item, StringComparison.Ordinal);
        return (Fill(question), Fill(answer) + " " + problem.AnswerSentence);
    }

    private static string Line(ArithmeticProblem problem, Random random)
    {
        var (user, assistant) = Conversation(problem, random);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("messages");
            foreach (var (role, content) in new[] { ("user", user), ("assistant", assistant) })
            {
                json.WriteStartObject();
                json.WriteString("role", role);
                json.WriteString("content", content);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Pick(string[] options, Random random) => options[random.Next(options.Length)];

    private static string Num(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
