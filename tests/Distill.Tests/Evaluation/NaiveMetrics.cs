using Distill.Models;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Tests.Evaluation;

/// <summary>Reference metrics with plain double loops over logits from one unbatched forward per example.</summary>
internal static class NaiveMetrics
{
    /// <summary>[T, V] logits of one example, as doubles.</summary>
    public static double[][] Logits(LlamaForCausalLM model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray()).reshape(1, ids.Length);
        var logits = model.Forward(new CausalLMInput { InputIds = input }).Logits!.to_type(ScalarType.Float64)[0];
        var flat = logits.data<double>().ToArray();
        var v = (int)logits.shape[1];
        return Enumerable.Range(0, ids.Length).Select(t => flat[(t * v)..((t + 1) * v)]).ToArray();
    }

    public static double[] LogSoftmax(IReadOnlyList<double> x)
    {
        var max = x.Max();
        var lse = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
        return x.Select(v => v - lse).ToArray();
    }

    public static int ArgMax(IReadOnlyList<double> x)
    {
        var best = 0;
        for (var i = 1; i < x.Count; i++)
            if (x[i] > x[best]) best = i;
        return best;
    }

    public static double Kl(double[] logP, double[] logQ)
    {
        double kl = 0;
        for (var i = 0; i < logP.Length; i++) kl += Math.Exp(logP[i]) * (logP[i] - logQ[i]);
        return kl;
    }

    /// <summary>Every supervised target (example, position j ≥ 1 with mask) as (logits row j − 1, label).</summary>
    public static IEnumerable<(int Example, int Position, double[] Row, int Label)> Targets(LlamaForCausalLM model, IReadOnlyList<TrainingExample> examples)
    {
        for (var e = 0; e < examples.Count; e++)
        {
            var logits = Logits(model, examples[e].InputIds);
            for (var j = 1; j < examples[e].InputIds.Length; j++)
                if (examples[e].LossMask[j] != 0) yield return (e, j, logits[j - 1], examples[e].InputIds[j]);
        }
    }
}
