using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Distill.Samples;

/// <summary>
/// Generates the bundled sample: arithmetic chat conversations with worked answers (column addition with carries,
/// comparisons with reasons) in Hugging Face <c>messages</c> JSONL, in three sets:
/// <list type="bullet">
/// <item>the teacher's train set: many conversations with operands of 1–3 digits (a wide space);</item>
/// <item>held-out: distinct problems with two-digit operands, none in the teacher's set;</item>
/// <item>the student's train set: a few hundred distinct two-digit problems, none held out (data is scarce).</item>
/// </list>
/// Every assistant answer ends with <see cref="ArithmeticProblem.AnswerSentence"/> ("The answer is 61."), so
/// answers are scored by exact match. Output depends only on the seed (System.Random with a seed is stable across
/// runtimes).
/// </summary>
public static class SampleGenerator
{
    /// <summary>The seed the committed samples/data files were generated with.</summary>
    public const int DefaultSeed = 12;

    /// <summary>Conversations in the committed train.jsonl (the student's data: one per distinct problem).</summary>
    public const int DefaultTrainCount = 600;

    /// <summary>Conversations in the committed teacher-train.jsonl (20 times the student's).</summary>
    public const int DefaultTeacherCount = 12000;

    /// <summary>Conversations (one per distinct problem) in the committed heldout.jsonl.</summary>
    public const int DefaultHeldOutCount = 200;

    /// <summary>Digits of every operand in the student's and the held-out sets.</summary>
    public const int StudentDigits = 2;

    // The sample's first version drew 200 held-out and 300 student problems (2–3 digits) before the teacher's set and
    // kept the 200 out of it; the committed teacher was trained on that set, so those draws stay to keep it as it was.
    private const int FirstHeldOut = 200, FirstTrain = 300;

    /// <summary>The three sets, each a list of JSONL lines, and the first version's student set.</summary>
    /// <param name="Train">The student's conversations (train.jsonl).</param>
    /// <param name="TeacherTrain">The teacher's conversations (teacher-train.jsonl).</param>
    /// <param name="HeldOut">The held-out conversations (heldout.jsonl).</param>
    /// <param name="FirstTrain">The first version's 300 student conversations: not written, but the committed
    /// tokenizer (the teacher's) was trained on them with the teacher's set, so regenerating it needs them.</param>
    public sealed record Sets(IReadOnlyList<string> Train, IReadOnlyList<string> TeacherTrain, IReadOnlyList<string> HeldOut,
        IReadOnlyList<string> FirstTrain);

    /// <summary>Draws the teacher's conversations, then the held-out problems, then the student's.</summary>
    public static Sets Generate(int seed = DefaultSeed, int trainCount = DefaultTrainCount, int teacherCount = DefaultTeacherCount,
        int heldOutCount = DefaultHeldOutCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heldOutCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(teacherCount);
        var random = new Random(seed);
        // Problems are told apart without their order (47 + 38 is 38 + 47), so no held-out problem is trained reversed.
        List<ArithmeticProblem> Distinct(int count, int minDigits, int maxDigits, HashSet<(string, int, int)> taken)
        {
            var problems = new List<ArithmeticProblem>(count);
            while (problems.Count < count)
            {
                var p = Draw(random, minDigits, maxDigits);
                if (taken.Add(Key(p))) problems.Add(p);
            }
            return problems;
        }
        var first = new HashSet<(string, int, int)>();
        var firstHeldOut = Distinct(FirstHeldOut, 2, 3, first);
        foreach (var p in firstHeldOut) Conversation(p, random); // their wordings were drawn then too
        var firstTrain = Distinct(FirstTrain, 2, 3, first).Select(p => Line(p, random)).ToList();
        var keptOut = firstHeldOut.Select(Key).ToHashSet();
        var teacherKeys = new HashSet<(string, int, int)>();
        var teacher = new List<string>(teacherCount);
        while (teacher.Count < teacherCount)
        {
            var p = Draw(random, minDigits: 1);
            if (keptOut.Contains(Key(p))) continue;
            teacherKeys.Add(Key(p));
            teacher.Add(Line(p, random));
        }
        var heldOutProblems = Distinct(heldOutCount, StudentDigits, StudentDigits, teacherKeys);
        var heldOut = heldOutProblems.Select(p => Line(p, random)).ToList();
        // The student's problems may be ones the teacher saw (its data is a superset's sample), never held-out ones.
        var train = Distinct(trainCount, StudentDigits, StudentDigits, heldOutProblems.Select(Key).ToHashSet()).Select(p => Line(p, random)).ToList();
        return new Sets(train, teacher, heldOut, firstTrain);
    }

    private static (string, int, int) Key(ArithmeticProblem p) => (p.Kind, Math.Min(p.A, p.B), Math.Max(p.A, p.B));

    /// <summary>Writes train.jsonl, teacher-train.jsonl and heldout.jsonl into <paramref name="folder"/> (created if missing).</summary>
    /// <returns>The sets written (and the first version's student set, which the tokenizer needs).</returns>
    public static Sets Write(string folder, int seed = DefaultSeed)
    {
        var sets = Generate(seed);
        Directory.CreateDirectory(folder);
        foreach (var (name, lines) in new[] { ("train.jsonl", sets.Train), ("teacher-train.jsonl", sets.TeacherTrain), ("heldout.jsonl", sets.HeldOut) })
            File.WriteAllText(Path.Combine(folder, name), string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));
        return sets;
    }

    /// <summary>
    /// A random problem: add (two in three) or compare; each operand has a digit count drawn uniformly from
    /// [<paramref name="minDigits"/>, <paramref name="maxDigits"/>], then a value of that many digits. Half the comparisons share the first
    /// operand's digit count and leading digit, so their reasons go past the first digit.
    /// </summary>
    public static ArithmeticProblem Draw(Random random, int minDigits, int maxDigits = 3)
    {
        ArgumentNullException.ThrowIfNull(random);
        int Operand() => Value(random, random.Next(minDigits, maxDigits + 1));
        if (random.Next(3) < 2) return new("add", Operand(), Operand());
        int a = Operand();
        while (true)
        {
            int b = random.Next(2) == 0 ? Operand() : Close(random, a);
            if (b != a) return new("compare", a, b);
        }
    }

    // A number with a's digit count and leading digit (the rest random).
    private static int Close(Random random, int a)
    {
        int digits = a.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        if (digits == 1) return random.Next(10);
        int scale = (int)Math.Pow(10, digits - 1);
        return a / scale * scale + random.Next(scale);
    }

    private static int Value(Random random, int digits) => digits == 1 ? random.Next(10) : random.Next((int)Math.Pow(10, digits - 1), (int)Math.Pow(10, digits));

    /// <summary>One conversation: a random question wording, then a worked answer in a random wording ending in the answer sentence.</summary>
    public static (string User, string Assistant) Conversation(ArithmeticProblem problem, Random random)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(random);
        string question = Pick(SamplePhrasings.Questions(problem.Kind), random);
        string name = Pick(SamplePhrasings.Names, random);
        string item = Pick(SamplePhrasings.Items, random);
        string opening = Pick(SamplePhrasings.Openings(problem.Kind), random);
        var steps = problem.Steps(random.Next(2));
        string closing = Pick(SamplePhrasings.Closings(problem.Kind), random);
        string Fill(string s) => s.Replace("{a}", Num(problem.A), StringComparison.Ordinal).Replace("{b}", Num(problem.B), StringComparison.Ordinal)
            .Replace("{c}", Num(problem.Answer), StringComparison.Ordinal).Replace("{n}", name, StringComparison.Ordinal)
            .Replace("{x}", item, StringComparison.Ordinal);
        var parts = new[] { opening }.Concat(steps).Append(closing).Where(s => s.Length > 0).Select(Fill).Append(problem.AnswerSentence);
        return (Fill(question), string.Join(' ', parts));
    }

    private static string Line(ArithmeticProblem problem, Random random)
    {
        var (user, assistant) = Conversation(problem, random);
        using var buffer = new MemoryStream();
        // Relaxed escaping writes "+" as itself, not \u002B, so the files read as plain text.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
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
