namespace Distill.Tests.Losses;

/// <summary>
/// Independent reference: the loss formulas written directly from their definitions (KL, JSD, NeMo-Aligner's renormalised top-K) with plain double loops over
/// probabilities (no tensors, no log-space tricks), one row at a time.
/// </summary>
internal static class NaiveKd
{
    public static double[] Softmax(double[] z)
    {
        var max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    public static double[] Scale(double[] z, double a) => z.Select(v => v * a).ToArray();

    public static double[] Pick(double[] row, long[] ids) => ids.Select(i => row[i]).ToArray();

    /// <summary>Σ a log(a/b), with 0 log 0 = 0.</summary>
    public static double Kl(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
            if (a[i] > 0) sum += a[i] * Math.Log(a[i] / b[i]);
        return sum;
    }

    /// <summary>Generalized JSD(β) on probability vectors, teacher p and student q.</summary>
    public static double Jsd(double[] p, double[] q, double beta)
    {
        if (beta == 0) return Kl(p, q);
        if (beta == 1) return Kl(q, p);
        var m = p.Select((pi, i) => beta * pi + (1 - beta) * q[i]).ToArray();
        return beta * Kl(p, m) + (1 - beta) * Kl(q, m);
    }

    public static double CrossEntropy(double[] logits, long label) => -Math.Log(Softmax(logits)[label]);

    /// <summary>NeMo top-K: p = softmax_K(ts·t), q = softmax_K(ls·x[ids]); JSD(β) with β=0 fwd, β=1 bwd.</summary>
    public static double TopK(double[] x, long[] ids, double[] t, double beta, double ls = 1, double ts = 1)
    {
        var p = Softmax(Scale(t, ts));
        var q = Softmax(Scale(Pick(x, ids), ls));
        return Jsd(p, q, beta);
    }

    /// <summary>Tail-aware: K probabilities plus a rest bucket on each side; forward = KL(P‖Q).</summary>
    public static double Tail(double[] x, long[] ids, double[] t, double lse, bool forward, double ls = 1)
    {
        var qFull = Softmax(Scale(x, ls));
        var p = t.Select(v => Math.Exp(v - lse)).ToList();
        var q = ids.Select(i => qFull[i]).ToList();
        p.Add(1 - p.Sum());
        q.Add(1 - q.Sum());
        return forward ? Kl(p.ToArray(), q.ToArray()) : Kl(q.ToArray(), p.ToArray());
    }

    /// <summary>Full vocabulary JSD(β) at temperature T.</summary>
    public static double Full(double[] s, double[] t, double beta, double temperature) =>
        Jsd(Softmax(Scale(t, 1 / temperature)), Softmax(Scale(s, 1 / temperature)), beta);

    /// <summary>log Σ exp(z − max z): what the cache stores next to max-subtracted top-K logits.</summary>
    public static double LogSumExpShifted(double[] z)
    {
        var max = z.Max();
        return Math.Log(z.Sum(v => Math.Exp(v - max)));
    }
}
