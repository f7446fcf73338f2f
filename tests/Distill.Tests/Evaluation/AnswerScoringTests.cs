using Distill.Evaluation;
using Xunit;

namespace Distill.Tests.Evaluation;

public sealed class AnswerScoringTests
{
    [Theory]
    [InlineData("42", "42", true)]
    [InlineData("  The answer is 42.\n", "The answer is 42.", true)]
    [InlineData("the answer is 42.", "The answer is 42.", false)]
    [InlineData("42", "42.0", false)]
    [InlineData("", "   ", true)]
    public void ExactMatch_Should_Compare_Trimmed_Text_Ordinally(string generated, string reference, bool expected) =>
        Assert.Equal(expected, AnswerScoring.ExactMatch(generated, reference));

    [Theory]
    [InlineData("Natalia sold 48 clips.\n#### 72", "72")]
    [InlineData("So 6 * 7 = 42", "42")]
    [InlineData("So x = -3.5  \n", "-3.5")]
    [InlineData("total = 1,200", "1,200")]
    [InlineData("####42", "42")]
    public void FinalAnswer_Should_Read_The_Number_After_The_Last_Marker(string reference, string expected) =>
        Assert.Equal(expected, AnswerScoring.FinalAnswer(reference));

    [Theory]
    [InlineData("The answer is 42.")]
    [InlineData("x = 42 apples")]
    [InlineData("#### 72 is the answer")]
    [InlineData("")]
    public void FinalAnswer_Should_Be_Null_Without_A_Trailing_Marked_Number(string reference) =>
        Assert.Null(AnswerScoring.FinalAnswer(reference));

    [Theory]
    [InlineData("so the result is 42.", "42", true)]
    [InlineData("#### 42", "42", true)]
    [InlineData("it is 142", "42", false)]
    [InlineData("it is 42.5", "42", false)]
    [InlineData("it is 4,200", "200", false)]
    [InlineData("-3.5 degrees", "-3.5", true)]
    [InlineData("forty-two", "42", false)]
    public void ContainsAnswer_Should_Match_Whole_Numbers_Only(string generated, string answer, bool expected) =>
        Assert.Equal(expected, AnswerScoring.ContainsAnswer(generated, answer));
}
