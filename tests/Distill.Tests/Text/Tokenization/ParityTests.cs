using System.Runtime.CompilerServices;
using System.Text.Json;
using Distill.Text.Tokenization;

namespace Distill.Tests.Text;

/// <summary>
/// Ids recorded from Hugging Face's tokenizers by llama.cpp (models/ggml-vocab-*.gguf.inp/.out,
/// MIT licence), with the vocabulary and merges those texts can reach; see Fixtures/README.md.
/// </summary>
public sealed class ParityTests
{
    private static string FixtureDir(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", name);

    public static TheoryData<string> Fixtures() => ["gpt2", "llama2"];

    private sealed record Case(string Text, int[] Ids);

    private static List<Case> Cases(string dir)
    {
        using var stream = File.OpenRead(Path.Combine(dir, "cases.json"));
        using var document = JsonDocument.Parse(stream);
        return [.. document.RootElement.EnumerateArray().Select(c => new Case(
            c.GetProperty("text").GetString()!,
            [.. c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32())]))];
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Encode_Should_Match_Hugging_Face_Ids(string fixture)
    {
        string dir = FixtureDir(fixture);
        var tokenizer = HfTokenizer.Load(dir);
        var cases = Cases(dir);
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var ids = tokenizer.Encode(c.Text, addSpecialTokens: false).Ids;
            Assert.True(c.Ids.SequenceEqual(ids),
                $"{fixture}: {JsonSerializer.Serialize(c.Text)}\n expected {string.Join(' ', c.Ids)}\n actual   {string.Join(' ', ids)}");
        }
    }

    [Fact]
    public void Byte_Level_Decode_Should_Reproduce_Every_Parity_Text()
    {
        string dir = FixtureDir("gpt2");
        var tokenizer = HfTokenizer.Load(dir);
        foreach (var c in Cases(dir))
            Assert.Equal(c.Text, tokenizer.Decode(c.Ids));
    }
}
