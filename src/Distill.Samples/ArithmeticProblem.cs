using System.Globalization;

namespace Distill.Samples;

/// <summary>
/// One problem of the bundled sample: add two numbers column by column (carries), or say which of two numbers is
/// larger and why (digit counts, then digits from the left). Every worked answer ends in "The answer is N.".
/// </summary>
/// <param name="Kind">add or compare.</param>
/// <param name="A">The first operand, 0–999.</param>
/// <param name="B">The second operand, 0–999 (never equal to <paramref name="A"/> for compare).</param>
public sealed record ArithmeticProblem(string Kind, int A, int B)
{
    /// <summary>The verifiable answer: the sum, or the larger operand for compare.</summary>
    public int Answer => Kind switch
    {
        "add" => A + B,
        "compare" => Math.Max(A, B),
        _ => throw new NotSupportedException($"arithmetic problem: unknown kind '{Kind}'"),
    };

    /// <summary>The sentence every assistant answer ends with, so accuracy can be scored by exact match.</summary>
    public string AnswerSentence => $"The answer is {Num(Answer)}.";

    /// <summary>
    /// The steps of the worked answer, in one of two wordings (<paramref name="style"/> 0 or 1): for add one step
    /// per column from the ones up, the shorter operand padded with 0 ("Tens: 7 + 0 + 1 = 8, write 8."), and a last
    /// step for a final carry; for compare the digit counts, or the digits from the left up to the first that differs.
    /// </summary>
    public IReadOnlyList<string> Steps(int style) => Kind switch
    {
        "add" => AddSteps(style),
        "compare" => CompareSteps(style),
        _ => throw new NotSupportedException($"arithmetic problem: unknown kind '{Kind}'"),
    };

    private static readonly string[] Columns = ["Ones", "Tens", "Hundreds", "Thousands"];

    private List<string> AddSteps(int style)
    {
        var steps = new List<string>();
        int columns = Math.Max(Num(A).Length, Num(B).Length), carry = 0;
        for (int c = 0, a = A, b = B; c < columns; c++, a /= 10, b /= 10)
        {
            int x = a % 10, y = b % 10, sum = x + y + carry;
            string terms = carry > 0 ? $"{x} + {y} + {carry}" : $"{x} + {y}";
            steps.Add(style == 0
                ? $"{Columns[c]}: {terms} = {sum}, write {sum % 10}" + (sum >= 10 ? ", carry 1." : ".")
                : $"{Columns[c]}: {terms} makes {sum}" + (sum >= 10 ? $", so {sum % 10} and carry 1." : "."));
            carry = sum / 10;
        }
        if (carry > 0) steps.Add(style == 0 ? $"{Columns[columns]}: write the carry 1." : $"{Columns[columns]}: the carry gives 1.");
        return steps;
    }

    private List<string> CompareSteps(int style)
    {
        string a = Num(A), b = Num(B), larger = Num(Answer);
        string more = style == 0 ? "is more than" : "is greater than";
        if (a.Length != b.Length)
        {
            var (longer, shorter) = a.Length > b.Length ? (a, b) : (b, a);
            return [$"{longer} has {longer.Length} digits and {shorter} has {shorter.Length}, so {larger} is larger."];
        }
        var steps = new List<string> { $"Both have {a.Length} digits." };
        for (int i = 0; i < a.Length; i++)
        {
            string column = Columns[a.Length - 1 - i];
            if (a[i] == b[i])
            {
                steps.Add(style == 0 ? $"{column}: {a[i]} and {b[i]} are the same." : $"{column}: both are {a[i]}.");
                continue;
            }
            var (hi, lo) = a[i] > b[i] ? (a[i], b[i]) : (b[i], a[i]);
            steps.Add($"{column}: {hi} {more} {lo}, so {larger} is larger.");
            break;
        }
        return steps;
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}
