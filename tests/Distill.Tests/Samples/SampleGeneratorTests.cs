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
        var first = SampleGenerator.Generate(seed: 3, trainCount: 31, heldOutCount: 7);
        var second = SampleGenerator.Generate(seed: 3, trainCount: 31, heldOutCount: 7);
        var other = SampleGenerator.Generate(seed: 5, trainCount: 31, heldOutCount: 7);
        Assert.Equal(first.Train, second.Train);
        Assert.Equal(first.HeldOut, second.HeldOut);
        Assert.NotEqual(first.Train, other.Train);
        Assert.Equal(31, first.Train.Count);
        Assert.Equal(7, first.HeldOut.Count);
    }

    [Fact]
    public void Committed_Files_Should_Equal_The_Generator_Output_For_The_Default_Seed()
    {
        var (train, heldOut) = SampleGenerator.Generate();
        Assert.Equal(train, File.ReadAllLines(SampleFiles.Data("train.jsonl")));
        Assert.Equal(heldOut, File.ReadAllLines(SampleFiles.Data("heldout.jsonl")));
    }

    [Fact]
    public void HeldOut_Problems_Should_Never_Appear_In_Train()
    {
        var (train, heldOut) = SampleGenerator.Generate(seed: 11, trainCount: 3000, heldOutCount: 97);
        var trainProblems = train.Select(l => ProblemKey(Messages(l).User)).ToHashSet();
        var heldOutProblems = heldOut.Select(l => ProblemKey(Messages(l).User)).ToList();
        Assert.Equal(97, heldOutProblems.Distinct().Count());
        Assert.DoesNotContain(heldOutProblems, trainProblems.Contains);
    }

    [Fact]
    public void Every_Answer_Should_End_With_The_Answer_Sentence_Computed_From_The_Question()
    {
        var (train, heldOut) = SampleGenerator.Generate();
        foreach (string line in train.Concat(heldOut))
        {
            var (user, assistant) = Messages(line);
            Assert.EndsWith($" The answer is {Solve(user)}.", assistant, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Phrasings_Should_Vary_For_Questions_And_Answers()
    {
        var (train, _) = SampleGenerator.Generate();
        var wordings = train.Select(Messages).Select(m => (Q: Digits().Replace(m.User, "#"), A: Digits().Replace(m.Assistant, "#"))).ToList();
        Assert.True(wordings.Select(w => w.Q).Distinct().Count() > 20);
        Assert.True(wordings.Select(w => w.A).Distinct().Count() >= 15);
    }

    // Solves the question from its two numbers and the kind its words name, independently of the generator's tables.
    private static int Solve(string question)
    {
        var numbers = Numbers(question);
        int low = numbers.Min(), high = numbers.Max();
        return Kind(question) switch
        {
            "compare" => high,
            "subtract" => high - low,
            "multiply" => low * high,
            _ => low + high,
        };
    }

    private static string Kind(string question)
    {
        string q = question.ToLowerInvariant();
        bool Has(params string[] words) => words.Any(w => q.Contains(w, StringComparison.Ordinal));
        if (Has("larger", "bigger")) return "compare";
        if (Has("minus", " - ", "away", "difference")) return "subtract";
        if (Has("times", " * ", "multiply", "product", "boxes")) return "multiply";
        Assert.True(Has("plus", " + ", "add", "sum", "more"), question);
        return "add";
    }

    // A problem is its operation and its operands in order; the wording (names, items, templates) is not part of it.
    private static string ProblemKey(string question)
    {
        var n = Numbers(question);
        bool reversed = question.StartsWith("Take ", StringComparison.Ordinal);
        return reversed ? $"{Kind(question)} {n[1]} {n[0]}" : $"{Kind(question)} {n[0]} {n[1]}";
    }

    private static int[] Numbers(string question)
    {
        var numbers = Digits().Matches(question).Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, numbers.Length);
        return numbers;
    }

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
}
