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

    [Fact]
    public void Repeated_Scoring_Should_Leave_The_Live_Tensor_Count_Flat()
    {
        using var model = TinyTeacher.Create();
        var statistics = DisposeScopeManager.Statistics;
        Scoring.Score(model, [5, 17, 300], [42, 7], topK: 3);
        var live = statistics.ThreadTotalLiveCount;

        for (var i = 0; i < 30; i++) Scoring.Score(model, [5, 17, 300, i], [42, 7], topK: i % 4);

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
