using Distill.Text.Tokenization;

namespace Distill.Tests.Text.Tokenization;

public sealed class BpeTrainerTests
{
    [Fact]
    public void Train_Should_Merge_The_Most_Frequent_Pair_And_Stop_When_No_Pair_Repeats()
    {
        // Words "abab" and " ab": a·b occurs 3 times, every other pair once. After merging it into token 256 the
        // words are [256 256] and [' ' 256], each pair once, so training stops at 257 tokens whatever the target.
        var tokens = BpeTrainer.Train(["abab ab"], vocabSize: 300);
        Assert.Equal(257, tokens.Count);
        Assert.Equal("ab"u8.ToArray(), tokens[256]);
        Assert.All(Enumerable.Range(0, 256), b => Assert.Equal(new[] { (byte)b }, tokens[b]));
    }

    [Fact]
    public void Train_Should_Stop_At_The_Vocabulary_Size()
    {
        var tokens = BpeTrainer.Train(["aaaa bbbb cccc aaaa bbbb cccc"], vocabSize: 257);
        Assert.Equal(257, tokens.Count);
    }

    [Fact]
    public void Train_Should_Reject_A_Vocabulary_Smaller_Than_The_Bytes() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["ab"], vocabSize: 255));
}
