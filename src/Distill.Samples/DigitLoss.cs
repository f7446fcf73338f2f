using Distill.Models;
using Distill.Text.Tokenization;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Samples;

/// <summary>
/// Held-out cross-entropy split by what the target token is: a digit (what decides a sample answer) or anything else
/// (the wording). It says where a student's loss sits against the teacher's, which is why the demo's KD gain is small:
/// students match the teacher on wording long before they match it on digits.
/// </summary>
/// <param name="Digits">Mean cross-entropy over supervised tokens that decode to digits only.</param>
/// <param name="Other">Mean cross-entropy over the other supervised tokens.</param>
/// <param name="DigitTokens">How many supervised tokens are digits.</param>
/// <param name="OtherTokens">How many are not.</param>
public sealed record DigitLoss(double Digits, double Other, long DigitTokens, long OtherTokens)
{
    /// <summary>Teacher-forces <paramref name="model"/> over every example of <paramref name="source"/>, one at a time.</summary>
    public static DigitLoss Measure(LlamaForCausalLM model, IExampleSource source, HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var isDigit = new Dictionary<int, bool>();
        bool IsDigit(int id)
        {
            if (!isDigit.TryGetValue(id, out bool digit))
            {
                string text = tokenizer.Decode([id]).Trim();
                isDigit[id] = digit = text.Length > 0 && text.All(char.IsAsciiDigit);
            }
            return digit;
        }
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var sums = zeros(2, dtype: ScalarType.Float64);                                       // digits, other
        long digits = 0, other = 0;
        for (long i = 0; i < source.Count; i++)
        {
            using var scope = NewDisposeScope();
            var example = source.Example(i);
            var (kind, targets, positions) = (new List<long>(), new List<long>(), new List<long>());
            for (int j = 1; j < example.InputIds.Length; j++)
            {
                if (example.LossMask[j] == 0) continue;
                bool digit = IsDigit(example.InputIds[j]);
                kind.Add(digit ? 0 : 1);
                targets.Add(example.InputIds[j]);
                positions.Add(j - 1);
                if (digit) digits++; else other++;
            }
            if (targets.Count == 0) continue;
            var ids = tensor(example.InputIds.Select(x => (long)x).ToArray()).unsqueeze(0);
            var logProbs = model.Forward(new CausalLMInput { InputIds = ids }).Logits![0].to_type(ScalarType.Float32).log_softmax(-1);
            var picked = logProbs.index_select(0, tensor(positions.ToArray())).gather(1, tensor(targets.ToArray()).unsqueeze(1)).squeeze(1);
            sums.index_add_(0, tensor(kind.ToArray()), picked.to_type(ScalarType.Float64), alpha: -1);
        }
        var total = sums.data<double>().ToArray();
        return new DigitLoss(digits > 0 ? total[0] / digits : double.NaN, other > 0 ? total[1] / other : double.NaN, digits, other);
    }
}
