using Distill.Teachers;
using Distill.Tests.Text.Conversations;
using Distill.Text.Tokenization;

namespace Distill.Tests.Teachers;

public sealed class ServedRowsTests
{
    [Fact]
    public void Fill_Should_Sort_Keep_K_And_Store_Logprobs_Relative_To_The_Best()
    {
        // Out of order and one more than K, as vLLM sends them (it adds the scored token to its top).
        (int, double)[] top = [(7, -1.5), (3, -0.5), (2, -3.0)];
        var ids = new int[2];
        var logits = new float[2];

        var lse = ServedRows.Fill(top, 2, ids, logits, "here");

        Assert.Equal([3, 7], ids);
        Assert.Equal([0f, -1f], logits);
        Assert.Equal(0.5f, lse);
        // Teacher log-prob = topk_logits − logsumexp gives the server's numbers back.
        Assert.Equal(-1.5f, logits[1] - lse);
    }

    [Fact]
    public void Fill_Should_Refuse_Too_Few_Repeated_Or_Impossible_Entries()
    {
        var ids = new int[3];
        var logits = new float[3];
        Assert.Contains("returned 2 top tokens", Assert.Throws<InvalidDataException>(() => ServedRows.Fill([(1, -1.0), (2, -2.0)], 3, ids, logits, "p")).Message);
        Assert.Contains("appears twice", Assert.Throws<InvalidDataException>(() => ServedRows.Fill([(1, -1.0), (1, -2.0), (4, -3.0)], 3, ids, logits, "p")).Message);
        Assert.Contains("not a log-probability", Assert.Throws<InvalidDataException>(() => ServedRows.Fill([(1, 0.5), (2, -2.0), (4, -3.0)], 3, ids, logits, "p")).Message);
    }

    [Fact]
    public void The_Token_Map_Should_Find_Tokens_By_Text_Bytes_Or_Id_And_Name_A_Stranger()
    {
        using var folder = new TinyModelFolder(eos: "<|im_end|>");
        var tokenizer = HfTokenizer.Load(folder.Path);
        var map = ServedTokenMap.For(tokenizer, 413);
        var hello = tokenizer.Encode("Hello", addSpecialTokens: false).Ids.Single();

        Assert.Equal(hello, map.Resolve("Hello", null, "here"));
        Assert.Equal(hello, map.Resolve("?", "Hello"u8.ToArray(), "here"));
        Assert.Equal(TinyModelFolder.IdOf("<|im_end|>"), map.Resolve("<|im_end|>", null, "here"));
        Assert.Equal(12, map.Resolve("token_id:12", null, "here"));
        var e = Assert.Throws<InvalidDataException>(() => map.Resolve("Hellooo", null, "server x: position 4"));
        Assert.Contains("server x: position 4", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"Hellooo\" is not one token", e.Message, StringComparison.Ordinal);
        Assert.Contains("outside the student's vocabulary", Assert.Throws<InvalidDataException>(() => map.Resolve("token_id:413", null, "p")).Message);
    }
}
