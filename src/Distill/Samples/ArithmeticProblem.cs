namespace Distill.Samples;

/// <summary>One small arithmetic problem of the bundled sample: two operands and what to do with them.</summary>
/// <param name="Kind">add, subtract, multiply or compare.</param>
/// <param name="A">The first operand.</param>
/// <param name="B">The second operand.</param>
public sealed record ArithmeticProblem(string Kind, int A, int B)
{
    /// <summary>The verifiable answer: the sum, difference, product, or the larger operand for compare.</summary>
    public int Answer => Kind switch
    {
        "add" => A + B,
        "subtract" => A - B,
        "multiply" => A * B,
        "compare" => Math.Max(A, B),
        _ => throw new NotSupportedException($"arithmetic problem: unknown kind '{Kind}'"),
    };

    /// <summary>The sentence every assistant answer ends with, so accuracy can be scored by exact match.</summary>
    public string AnswerSentence => $"The answer is {Answer}.";
}
