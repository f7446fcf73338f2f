using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>KD against full teacher logits (online / on-policy KD, GKD style).</summary>
public static class FullVocabKd
{
    /// <summary>
    /// Per-token generalized Jensen-Shannon divergence, TRL's GKD convention: P_T = softmax(t/T),
    /// P_S = softmax(s/T), M = β·P_T + (1−β)·P_S, JSD = β·KL(P_T‖M) + (1−β)·KL(P_S‖M); β = 0 is computed
    /// as forward KL(P_T‖P_S) and β = 1 as reverse KL(P_S‖P_T) (the mixture form degenerates to 0 there).
    /// Log-probabilities and log M (by logsumexp) throughout, so tiny probabilities do not underflow.
    /// No T² factor here (see <see cref="KdObjective.TSquared"/>).
    /// </summary>
    /// <remarks>
    /// Vocabularies that differ by padded rows are sliced to their shared prefix, see <see cref="VocabAlignment"/>.
    /// </remarks>
    /// <param name="studentLogits">[N, Vs] student logits.</param>
    /// <param name="teacherLogits">[N, Vt] teacher logits.</param>
    /// <param name="beta">Interpolation in [0, 1].</param>
    /// <param name="temperature">Softening temperature, &gt; 0, applied to both sides.</param>
    /// <returns>[N] per-token losses, fp32 (fp64 kept).</returns>
    public static Tensor GeneralizedJsd(Tensor studentLogits, Tensor teacherLogits, double beta, double temperature = 1)
    {
        KdObjective.CheckBeta(beta);
        KdObjective.CheckTemperature(temperature);
        LossMath.CheckRows(studentLogits, teacherLogits, "student logits", "teacher logits");
        using var scope = NewDisposeScope();
        var (s, t) = VocabAlignment.SharedPrefix(LossMath.AtLeastFloat32(studentLogits), teacherLogits);
        var logQ = (s / temperature).log_softmax(1);                                   // [N, V]
        var logP = (t.to_type(s.dtype) / temperature).log_softmax(1);
        return LossMath.GeneralizedJsd(logP, logQ, beta).MoveToOuterDisposeScope();
    }
}
