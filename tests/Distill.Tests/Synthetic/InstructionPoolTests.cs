using Distill.Synthetic;

namespace Distill.Tests.Synthetic;

public sealed class InstructionPoolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-pool-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static InstructionPool Pool(params string[] seeds) =>
        new([.. seeds.Select((s, i) => new InstructionTask($"s{i}", s))], new SelfInstructOptions { Seeds = "unused", Num = 10 });

    [Fact]
    public void Judge_Should_Drop_Malformed_Candidates_With_The_Reason()
    {
        var pool = Pool("Write a poem about the sea.");

        Assert.Equal("empty", pool.Judge(""));
        Assert.Equal("3 words, fewer than 4", pool.Judge("Name three rivers"));
        Assert.Equal("does not start with a letter or digit", pool.Judge("- Name three large rivers"));
        Assert.Equal("151 words, more than 150", pool.Judge(string.Join(' ', Enumerable.Repeat("word", 151))));
        Assert.StartsWith("no Latin letters or digits", pool.Judge("Назовите три большие реки"));
        Assert.Null(pool.Judge("Name three large rivers of Europe."));
    }

    [Fact]
    public void Judge_Should_Drop_Near_Duplicates_Above_The_Threshold_Against_Seeds_And_Generated()
    {
        var pool = Pool("Write a poem about the sea.");
        // Against the seed: LCS("write a poem about the sea today", seed) = 6: P = 6/7, R = 1, F = 12/13 = 0.923 > 0.7.
        Assert.Equal("near-duplicate: ROUGE-L F 0.923 > 0.7 against s0 \"Write a poem about the sea.\"", pool.Judge("Write a poem about the sea today"));
        // "write a story about a dog" against the seed: LCS "write a about" = 3, P = 3/6, R = 3/6, F = 0.5: kept.
        Assert.Null(pool.Judge("Write a story about a dog."));
        pool.Add(new InstructionTask("g1", "Write a story about a dog."));
        // Now it is in the pool: the same words differently punctuated score 1.
        Assert.StartsWith("near-duplicate: ROUGE-L F 1.000 > 0.7 against g1", pool.Judge("write a story, about a dog"));
        // "write a long story about a dog" against g1: LCS 6, P = 6/7, R = 1, F = 12/13; against the seed lower.
        Assert.Contains("against g1", pool.Judge("write a long story about a dog"));
        // Exactly 0.75 with threshold 0.7 is dropped; with threshold 0.8 kept ("a x b y c" vs "a b c" is 0.75, by hand).
        var loose = new InstructionPool([new InstructionTask("s", "alpha beta gamma")], new SelfInstructOptions { Seeds = "u", Num = 1, MinWords = 1, MaxRougeL = 0.8 });
        Assert.Null(loose.Judge("alpha x beta y gamma"));
        var strict = new InstructionPool([new InstructionTask("s", "alpha beta gamma")], new SelfInstructOptions { Seeds = "u", Num = 1, MinWords = 1 });
        Assert.StartsWith("near-duplicate: ROUGE-L F 0.750", strict.Judge("alpha x beta y gamma"));
    }

    [Fact]
    public void Candidates_Should_Be_The_Numbered_Lines_Or_Else_The_Whole_Reply()
    {
        Assert.Equal(["Name a river.", "Add 3 and 4.", "Sort these words: b, a"],
            InstructionPool.Candidates("Sure:\n4. Name a river.\n 5) Add 3 and 4.\nnot numbered\n6: Sort these   words: b, a\n7."));
        Assert.Equal(["Explain why the sky is blue."], InstructionPool.Candidates("  Explain why the sky\nis blue. "));
    }

    [Fact]
    public void ReadSeeds_Should_Read_Alpaca_Seeds_And_Prompt_Layouts_And_Name_Bad_Lines()
    {
        var path = Path.Combine(_root, "seeds.jsonl");
        File.WriteAllLines(path,
        [
            """{"id": "seed_task_0", "instruction": "Give three tips.", "instances": [{"input": "", "output": "..."}]}""",
            """{"instruction": "Translate to French:", "input": "good morning"}""",
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is\n2 + 2?"}, {"role": "assistant", "content": "4"}]}""",
            "",
            """{"prompt": "Name a colour."}""",
        ]);

        var seeds = InstructionPool.ReadSeeds(path);

        Assert.Equal([("seed_task_0", "Give three tips."), ("seed-2", "Translate to French: good morning"), ("seed-3", "What is 2 + 2?"), ("seed-5", "Name a colour.")],
            seeds.Select(s => (s.Id, s.Text)));
        File.AppendAllLines(path, ["""{"messages": [{"role": "system", "content": "only a system turn"}]}"""]);
        var e = Assert.Throws<InvalidDataException>(() => InstructionPool.ReadSeeds(path));
        Assert.StartsWith($"{path}:6: no user turn", e.Message);
    }
}
