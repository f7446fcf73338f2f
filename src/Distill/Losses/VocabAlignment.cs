using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Teacher and student vocabularies often differ only by padded rows: the embedding matrix is rounded up
/// for fast matmuls (Phi-3's 32064 vs Llama-2's 32000 for the same tokenizer; Qwen2.5's 151936 vs
/// 152064 for a 151665-token tokenizer). Ids below the smaller size mean the same tokens in both; rows
/// above it are never produced by the tokenizer.
///
/// Policy, per loss family:
/// - top-K and tail-aware KD index the student by the teacher's ids, so they only need every id to be
///   below the student's vocabulary size (checked). The student's padded rows stay in its softmax: they
///   are mass the student really assigns, and training drives it to zero.
/// - full-vocabulary divergences need one common support: both sides are sliced to the shared prefix
///   [0, min(Vs, Vt)) and renormalised there. A difference larger than
///   <see cref="MaxPaddingRows"/> is not padding but a different tokenizer, and is rejected.
/// </summary>
public static class VocabAlignment
{
    /// <summary>Largest vocabulary-size difference still treated as padding (rounding to 64 or 128, plus added tokens).</summary>
    public const long MaxPaddingRows = 1024;

    /// <summary>Slices [N, Vs] student and [N, Vt] teacher logits to their shared prefix of the vocabulary (views, no copy).</summary>
    /// <exception cref="InvalidDataException">The sizes differ by more than <see cref="MaxPaddingRows"/>.</exception>
    public static (Tensor Student, Tensor Teacher) SharedPrefix(Tensor studentLogits, Tensor teacherLogits)
    {
        var vs = studentLogits.shape[^1];
        var vt = teacherLogits.shape[^1];
        if (Math.Abs(vs - vt) > MaxPaddingRows)
            throw new InvalidDataException(
                $"teacher logits: vocabulary size {vt} differs from the student's {vs} by more than {MaxPaddingRows} rows; " +
                "that is a different tokenizer, not padding, and full-vocabulary KD needs a shared vocabulary");
        var shared = Math.Min(vs, vt);
        return (studentLogits.narrow(-1, 0, shared), teacherLogits.narrow(-1, 0, shared));
    }
}
