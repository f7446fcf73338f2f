using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Distill.Samples;

namespace Distill.Tests.Samples;

public sealed partial class SampleGeneratorTests
{
    [Fact]
    public void Generate_Should_Be_Deterministic_For_A_Seed()
    {
        var first = SampleGenerator.Generate(seed: 3, trainCount: 31, teacherCount: 53, heldOutCount: 7);
        var second = SampleGenerator.Generate(seed: 3, trainCount: 31, teacherCount: 53, heldOutCount: 7);
        var other = SampleGenerator.Generate(seed: 5, trainCount: 31, teacherCount: 53, heldOutCount: 7);
        Assert.Equal(first.Train, second.Train);
        Assert.Equal(first.TeacherTrain, second.TeacherTrain);
        Assert.Equal(first.HeldOut, second.HeldOut);
        Assert.NotEqual(first.Train, other.Train);
        Assert.Equal(31, first.Train.Count);
        Assert.Equal(53, first.TeacherTrain.Count);
        Assert.Equal(7, first.HeldOut.Count);
    }

    [Fact]
    public void Committed_Files_Should_Equal_The_Generator_Output_For_The_Default_Seed()
    {
        var sets = SampleGenerator.Generate();
        Assert.Equal(sets.Train, File.ReadAllLines(SampleFiles.Data("train.jsonl")));
        Assert.Equal(sets.TeacherTrain, File.ReadAllLines(SampleFiles.Data("teacher-train.jsonl")));
        Assert.Equal(sets.HeldOut, File.ReadAllLines(SampleFiles.Data("heldout.jsonl")));
    }

    [Fact]
    public void Committed_Sets_Should_Have_Scarce_Student_Data_And_Ten_Times_More_For_The_Teacher()
    {
        int student = File.ReadLines(SampleFiles.Data("train.jsonl")).Count();
        int teacher = File.ReadLines(SampleFiles.Data("teacher-train.jsonl")).Count();
        Assert.InRange(student, 100, 999);
        Assert.True(teacher >= 10 * student, $"{teacher} teacher conversations for {student} student ones");
    }

    [Fact]
    public void Student_And_HeldOut_Operands_Should_Have_Two_Digits_And_The_Teachers_One_To_Three()
    {
        var sets = SampleGenerator.Generate();
        int Digits(int n) => n.ToString(CultureInfo.InvariantCulture).Length;
        foreach (string line in sets.Train.Concat(sets.HeldOut))
            Assert.All(Numbers(Messages(line).User), n => Assert.Equal(2, Digits(n)));
        var teacherDigits = sets.TeacherTrain.SelectMany(l => Numbers(Messages(l).User)).Select(Digits).Distinct().Order();
        Assert.Equal([1, 2, 3], teacherDigits);
    }

    [Fact]
    public void HeldOut_Problems_Should_Appear_In_Neither_Training_Set_In_Any_Order()
    {
        // The committed sets, and a second seed with more draws than problems of some kinds so collisions must be avoided.
        foreach (var sets in new[] { SampleGenerator.Generate(), SampleGenerator.Generate(seed: 11, trainCount: 500, teacherCount: 4000, heldOutCount: 300) })
        {
            var heldOut = sets.HeldOut.Select(l => ProblemKey(Messages(l).User)).ToList();
            Assert.Equal(heldOut.Count, heldOut.Distinct().Count());
            var student = sets.Train.Select(l => ProblemKey(Messages(l).User)).ToList();
            Assert.Equal(student.Count, student.Distinct().Count());
            var trained = student.Concat(sets.TeacherTrain.Select(l => ProblemKey(Messages(l).User))).ToHashSet();
            Assert.DoesNotContain(heldOut, trained.Contains);
        }
    }

    [Fact]
    public void Every_Answer_Should_End_With_The_Answer_An_Independent_Solver_Computes()
    {
        var sets = SampleGenerator.Generate();
        foreach (string line in sets.Train.Concat(sets.TeacherTrain).Concat(sets.HeldOut))
        {
            var (user, assistant) = Messages(line);
            Assert.EndsWith($" The answer is {Solve(user)}.", assistant, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_Worked_Step_Should_Be_Arithmetically_Right()
    {
        // "x + y + c = s, write d, carry 1." / "x + y makes s, so d and carry 1." / "x is more than y" — each checked on its own.
        var sets = SampleGenerator.Generate();
        int sums = 0, comparisons = 0;
        foreach (string line in sets.Train.Concat(sets.HeldOut).Concat(sets.TeacherTrain.Take(3000)))
        {
            string assistant = Messages(line).Assistant;
            foreach (Match m in ColumnSum().Matches(assistant))
            {
                int total = m.Groups["terms"].Value.Split('+').Sum(t => int.Parse(t.Trim(), CultureInfo.InvariantCulture));
                Assert.Equal(total, Int(m.Groups["sum"].Value));
                if (m.Groups["digit"].Success) Assert.Equal(total % 10, Int(m.Groups["digit"].Value));
                Assert.Equal(total >= 10, m.Groups["carry"].Success);
                sums++;
            }
            foreach (Match m in Greater().Matches(assistant))
            {
                Assert.True(Int(m.Groups["hi"].Value) > Int(m.Groups["lo"].Value), assistant);
                comparisons++;
            }
        }
        Assert.True(sums > 1000 && comparisons > 100, $"{sums} column sums and {comparisons} digit comparisons checked");
    }

    [Fact]
    public void Phrasings_Should_Vary_For_Questions_And_Answers()
    {
        var sets = SampleGenerator.Generate();
        var wordings = sets.Train.Select(Messages).Select(m => (Q: Digits().Replace(m.User, "#"), A: Digits().Replace(m.Assistant, "#"))).ToList();
        Assert.True(wordings.Select(w => w.Q).Distinct().Count() > 20);
        Assert.True(wordings.Select(w => w.A).Distinct().Count() >= 30);
    }

    // Solves the question from its two numbers and the kind its words name, independently of the generator.
    private static int Solve(string question)
    {
        var n = Numbers(question);
        return Kind(question) == "compare" ? Math.Max(n[0], n[1]) : n[0] + n[1];
    }

    private static string Kind(string question)
    {
        string q = question.ToLowerInvariant();
        bool Has(params string[] words) => words.Any(w => q.Contains(w, StringComparison.Ordinal));
        if (Has("larger", "bigger")) return "compare";
        Assert.True(Has("plus", " + ", "add", "sum", "more"), question);
        return "add";
    }

    // A problem is its operation and its operands without order; the wording (names, items, templates) is not part of it.
    private static string ProblemKey(string question)
    {
        var n = Numbers(question);
        return $"{Kind(question)} {Math.Min(n[0], n[1])} {Math.Max(n[0], n[1])}";
    }

    private static int[] Numbers(string question)
    {
        var numbers = Digits().Matches(question).Select(m => Int(m.Value)).ToArray();
        Assert.Equal(2, numbers.Length);
        return numbers;
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static (string User, string Assistant) Messages(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var messages = doc.RootElement.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        return (messages[0].GetProperty("content").GetString()!, messages[1].GetProperty("content").GetString()!);
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"(?:Ones|Tens|Hundreds): (?<terms>\d(?: \+ \d)+) (?:=|makes) (?<sum>\d+)(?:, (?:write |so )(?<digit>\d))?(?<carry>,? and carry 1|, carry 1)?\.")]
    private static partial Regex ColumnSum();

    [GeneratedRegex(@"(?<hi>\d) is (?:more|greater) than (?<lo>\d)")]
    private static partial Regex Greater();
}
