using Distill.Synthetic;

namespace Distill.Tests.Synthetic;

// Expected values worked by hand from rouge-score's definitions (tokenize.py, rouge_scorer._score_lcs, scoring.fmeasure).
public sealed class RougeLTests
{
    [Fact]
    public void Tokenize_Should_Lowercase_And_Keep_Runs_Of_Latin_Letters_And_Digits()
    {
        Assert.Equal(["the", "cat", "sat", "on", "the", "mat", "42"], RougeL.Tokenize("The cat, sat-on\tTHE mat!42"));
        // "é" is not in [a-z0-9], so it separates: "Café au lait" -> "caf", "au", "lait".
        Assert.Equal(["caf", "au", "lait"], RougeL.Tokenize("Café au lait"));
        Assert.Equal(["3", "14"], RougeL.Tokenize("Привет 3.14"));
        Assert.Empty(RougeL.Tokenize(" ¿?… "));
    }

    [Fact]
    public void F_Should_Be_The_Harmonic_Mean_Of_Lcs_Precision_And_Recall()
    {
        // LCS("the cat sat on the mat", "the cat on the mat") = 5: P = 5/6, R = 5/5, F = 2·(5/6)·1 / (5/6 + 1) = 10/11.
        Assert.Equal(10.0 / 11, RougeL.F("the cat sat on the mat", "The cat on the mat."), 12);
        Assert.Equal(10.0 / 11, RougeL.F("The cat on the mat.", "the cat sat on the mat"), 12);
        // "a b c d" against "b d a c": the longest common subsequences ("b d", "b c", "a c") have 2 tokens: P = R = 1/2.
        Assert.Equal(0.5, RougeL.F("a b c d", "b d a c"), 12);
        // A subsequence, not a substring: "a x b y c" against "a b c" has LCS 3: P = 3/5, R = 1, F = 2·0.6/1.6 = 0.75.
        Assert.Equal(0.75, RougeL.F("a x b y c", "a b c"), 12);
        Assert.Equal(1.0, RougeL.F("Add 5 and 7.", "add 5, and 7"), 12);
    }

    [Fact]
    public void F_Should_Be_Zero_Without_Common_Tokens_Or_With_An_Empty_Side()
    {
        Assert.Equal(0, RougeL.F("one two", "three four"));
        Assert.Equal(0, RougeL.F("", "three four"));
        Assert.Equal(0, RougeL.F("¿?", "¿?"));
    }

    [Fact]
    public void LcsLength_Should_Match_Hand_Counts()
    {
        Assert.Equal(4, RougeL.LcsLength(["a", "b", "c", "b", "d", "a", "b"], ["b", "d", "c", "a", "b", "a"])); // "b c b a" (CLRS 15.4)
        Assert.Equal(0, RougeL.LcsLength([], ["a"]));
    }
}
