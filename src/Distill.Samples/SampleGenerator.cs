using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Distill.Samples;

/// <summary>
/// Generates the bundled sample: arithmetic chat conversations with worked answers (column addition with carries,
/// comparisons with reasons) in Hugging Face <c>messages</c> JSONL, in three sets:
/// <list type="bullet">
/// <item>held-out: distinct problems with operands of 2–3 digits, one conversation each;</item>
/// <item>the student's train set: a few hundred distinct problems of the same kind, none held out (data is scarce);</item>
/// <item>the teacher's train set: many more conversations (operands of 1–3 digits, a wider space), none held out.</item>
/// </list>
/// Every assistant answer ends with <see cref="ArithmeticProblem.AnswerSentence"/> ("The answer is 861."), so
/// answers are scored by exact match. Output depends only on the seed (System.Random with a seed is stable across
/// runtimes).
/// </summary>
public static class SampleGenerator
{
    /// <summary>The seed the committed samples/data files were generated with.</summary>
    public const int DefaultSeed = 12;

    /// <summary>Conversations in the committed train.jsonl (the student's data: one per distinct problem).</summary>
    public const int DefaultTrainCount = 300;

    /// <summary>Conversations in the committed teacher-train.jsonl (40 times the student's).</summary>
    public const int DefaultTeacherCount = 12000;

    /// <summary>Conversations (one per distinct problem) in the committed heldout.jsonl.</summary>
    public const int DefaultHeldOutCount = 200;

    /// <summary>The three sets, each a list of JSONL lines.</summary>
    public sealed record Sets(IReadOnlyList<string> Train, IReadOnlyList<string> TeacherTrain, IReadOnlyList<string> HeldOut);

    /// <summary>Draws the held-out problems first, then the student's and the teacher's training conversations.</summary>
    public static Sets Generate(int seed = DefaultSeed, int trainCount = DefaultTrainCount, int teacherCount = DefaultTeacherCount,
        int heldOutCount = DefaultHeldOutCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heldOutCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(teacherCount);
        var random = new Random(seed);
        // Problems are told apart without their order (472 + 389 is 389 + 472), so no held-out problem is trained reversed.
        var seen = new HashSet<(string, int, int)>();
        List<ArithmeticProblem> Distinct(int count)
        {
            var problems = new List<ArithmeticProblem>(count);
            while (problems.Count < count)
            {
                var p = Draw(random, minDigits: 2);
                if (seen.Add(Key(p))) problems.Add(p);
            }
            return problems;
        }
        var heldOutProblems = Distinct(heldOutCount);
        var heldOutSet = heldOutProblems.Select(Key).ToHashSet();
        var heldOut = heldOutProblems.Select(p => Line(p, random)).ToList();
        var train = Distinct(trainCount).Select(p => Line(p, random)).ToList();
        var teacher = new List<string>(teacherCount);
        while (teacher.Count < teacherCount)
        {
            var p = Draw(random, minDigits: 1);
            if (!heldOutSet.Contains(Key(p))) teacher.Add(Line(p, random));
        }
        return new Sets(train, teacher, heldOut);
    }

    private static (string, int, int) Key(ArithmeticProblem p) => (p.Kind, Math.Min(p.A, p.B), Math.Max(p.A, p.B));

    /// <summary>Writes train.jsonl, teacher-train.jsonl and heldout.jsonl into <paramref name="folder"/> (created if missing).</summary>
    public static void Write(string folder, int seed = DefaultSeed)
    {
        var sets = Generate(seed);
        Directory.CreateDirectory(folder);
        foreach (var (name, lines) in new[] { ("train.jsonl", sets.Train), ("teacher-train.jsonl", sets.TeacherTrain), ("heldout.jsonl", sets.HeldOut) })
            File.WriteAllText(Path.Combine(folder, name), string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));
    }

    /// <summary>
    /// A random problem: add (two in three) or compare; each operand has a digit count drawn uniformly from
    /// [<paramref name="minDigits"/>, 3], then a value of that many digits. Half the comparisons share the first
    /// operand's digit count and leading digit, so their reasons go past the first digit.
    /// </summary>
    public static ArithmeticProblem Draw(Random random, int minDigits)
    {
        ArgumentNullException.ThrowIfNull(random);
        int Operand() => Value(random, random.Next(minDigits, 4));
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
