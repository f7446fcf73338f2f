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
    [InlineData("We add 10 to 18 and get 28. The answer is 28.", "28")]
    [InlineData("so the answer is 1,200.\n", "1,200")]
    [InlineData("Hence 6 * 7 = 42.", "42")]
    public void FinalAnswer_Should_Read_The_Number_After_The_Last_Marker(string reference, string expected) =>
        Assert.Equal(expected, AnswerScoring.FinalAnswer(reference));

    [Theory]
    [InlineData("The answer is 42. Next question?")]
    [InlineData("There answer is 42.")]
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

    [Theory]
    [InlineData("We add 10 to 18 and get 28. The answer is 28.", "28", true)]
    [InlineData("We add 10 to 18 and get 27. The answer is 27.", "28", false)]
    // Containment would count this wrong answer: the reference's answer 20 is one of the operands.
    [InlineData("Comparing 12 and 20, 12 is larger. The answer is 12.", "20", false)]
    [InlineData("The answer is 28. The answer is", "28", false)]
    [InlineData("#### 1,200", "1200", true)]
    [InlineData("#### +5", "5", true)]
    [InlineData("x = 3.50", "3.5", true)]
    [InlineData("#### 123456789012345678901234567890123", "123,456,789,012,345,678,901,234,567,890,123", true)]
    [InlineData("#### 123456789012345678901234567890123", "123456789012345678901234567890124", false)]
    [InlineData("28", "28", false)]
    public void SameFinalAnswer_Should_Compare_The_Generated_Final_Answer_As_A_Number(string generated, string answer, bool expected) =>
        Assert.Equal(expected, AnswerScoring.SameFinalAnswer(generated, answer));
}
