using Distill.Serving;
using Distill.Tests.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Serving;

public sealed class ScoringTests
{
    [Fact]
    public void Score_Should_Give_Null_First_Then_Sorted_Top_Alternatives_Holding_The_Argmax()
    {
        using var model = TinyTeacher.Create();

        var scored = Scoring.Score(model, [5, 17, 300], [42, 7], topK: 4);

        Assert.Equal(5, scored.Length);
        Assert.Null(scored[0]);
        Assert.All(scored.Skip(1), s =>
        {
            Assert.Equal(4, s!.Top.Count);
            Assert.True(s.Top.Zip(s.Top.Skip(1)).All(p => p.First.Logprob >= p.Second.Logprob));
            Assert.True(s.Logprob <= s.Top[0].Logprob + 1e-6f);
        });
        Assert.Equal([17, 300, 42, 7], scored.Skip(1).Select(s => s!.Id));
    }

    [Theory]
    [InlineData(8192, 1L << 24)] // one padded pass, one chunk
    [InlineData(8192, 3 * TinyTeacher.Vocab)] // one padded pass, chunks of 3 positions that straddle rows
    [InlineData(20, 5 * TinyTeacher.Vocab)] // several passes (LengthBatches under 20 padded tokens)
    public void ScoreRows_Should_Give_Each_Row_What_A_Plain_Forward_Of_It_Alone_Gives(long batchTokens, long chunkElements)
    {
        using var model = TinyTeacher.Create();
        int[][] rows = [[5, 17, 300, 42, 7, 9, 400, 3, 3], [11, 2], [8], [300, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [40, 41, 42, 43, 44]];
        int[] topK = [3, 0, 5, 1, 20];

        var scored = Scoring.ScoreRows(model, rows, topK, batchTokens, chunkElements);

        Assert.Equal(rows.Length, scored.Length);
        for (var r = 0; r < rows.Length; r++) PlainScoring.AssertEqual(model, rows[r], topK[r], scored[r].Value);
    }

    [Fact]
    public void ScoreRows_Should_Fail_Only_The_Row_With_An_Id_Outside_The_Vocabulary()
    {
        using var model = TinyTeacher.Create();
        int[][] rows = [[5, 17, 300, 42], [11, TinyTeacher.Vocab, 2], [40, 41]];

        var scored = Scoring.ScoreRows(model, rows, [2, 2, 2]);

        var error = Assert.IsType<ArgumentException>(scored[1].Error);
        Assert.Contains($"token id {TinyTeacher.Vocab} at position 1", error.Message);
        Assert.Throws<ArgumentException>(() => scored[1].Value);
        PlainScoring.AssertEqual(model, rows[0], 2, scored[0].Value);
        PlainScoring.AssertEqual(model, rows[2], 2, scored[2].Value);
    }

    [Fact]
    public void Score_Of_One_Token_Should_Be_A_Single_Null()
    {
        using var model = TinyTeacher.Create();

        var scored = Scoring.Score(model, [5], [], topK: 3);

        Assert.Null(Assert.Single(scored));
    }

    [Fact]
    public void Repeated_Scoring_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        using var model = TinyTeacher.Create();
        var statistics = DisposeScopeManager.Statistics;
        Scoring.Score(model, [5, 17, 300], [42, 7], topK: 3);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 30; i++)
        {
            Scoring.Score(model, [5, 17, 300, i], [42, 7], topK: i % 4);
            Scoring.ScoreRows(model, [[5, 17, 300, i], [42], [7, i, 8]], [i % 4, 1, 2], chunkElements: 2 * TinyTeacher.Vocab);
        }

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }
}

public sealed class TokenBytesTests
{
    [Fact]
    public void Bytes_Should_Be_Exact_Also_For_A_Token_Inside_A_Multi_Byte_Character()
    {
        using var folder = new Distill.Tests.Text.Conversations.TinyModelFolder();
        var tokenizer = Distill.Text.Tokenization.HfTokenizer.Load(folder.Path);
        var hello = tokenizer.TokenToId("Hello")!.Value;
        var imEnd = Distill.Tests.Text.Conversations.TinyModelFolder.IdOf("<|im_end|>");

        // The tiny vocabulary's ids 0..255 are the 256 bytes.
        Assert.Equal(new byte[] { 0xE2 }, TokenBytes.Of(tokenizer, 0xE2));
        Assert.Equal("Hello"u8.ToArray(), TokenBytes.Of(tokenizer, hello));
        Assert.Equal("<|im_end|>"u8.ToArray(), TokenBytes.Of(tokenizer, imEnd));
    }
}
