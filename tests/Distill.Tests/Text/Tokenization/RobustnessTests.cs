namespace Distill.Tests.Text;

/// <summary>Odd input must encode without crashing, and one tokenizer must be usable from several threads.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public void Lone_Surrogates_Should_Encode_As_The_Replacement_Character()
    {
        using var byteLevel = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Gpt2());
        // U+FFFD is EF BF BD in UTF-8: one byte token each, as Rust would see after lossy conversion.
        Assert.Equal([0xEF, 0xBF, 0xBD, 97], byteLevel.Load().Encode("\uD800a").Ids);
        using var sentencePiece = new TokenizerFolder().Write("tokenizer.json", SentencePieceFixture.Legacy());
        int[] replacement = [SentencePieceFixture.Byte(0xEF), SentencePieceFixture.Byte(0xBF), SentencePieceFixture.Byte(0xBD)];
        Assert.Equal([SentencePieceFixture.Space, .. replacement, SentencePieceFixture.A],
            sentencePiece.Load().Encode("\uDC00a", addSpecialTokens: false).Ids);
    }

    [Fact]
    public void Concurrent_Encodes_Should_Agree_With_Sequential_Ones()
    {
        using var folder = new TokenizerFolder().Write("tokenizer.json", ByteLevelFixture.Llama3());
        var tokenizer = folder.Load();
        string[] texts = [.. Enumerable.Range(0, 64).Select(i => $"the cat {i} abc 😀a xyz\n\n{new string('x', i % 7)}")];
        var sequential = texts.Select(t => tokenizer.Encode(t).Ids).ToArray();
        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = tokenizer.Encode(texts[i]).Ids);
        for (int i = 0; i < texts.Length; i++)
            Assert.Equal(sequential[i], parallel[i]);
    }
}
