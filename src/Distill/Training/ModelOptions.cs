using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>The <c>model</c> section: which student, where, and in which precision.</summary>
/// <param name="Student">Hugging Face folder of the student to train (<c>student</c>).</param>
/// <param name="Device">Torch device (<c>device</c>): "cpu", "cuda", "cuda:1".</param>
/// <param name="DType">
/// Compute dtype (<c>dtype</c>): "float32", or "bfloat16" for a bf16 model with fp32 master weights and
/// fp32 optimizer state (TorchSharp has no autocast, so the precision split is done by hand).
/// </param>
public sealed record ModelOptions(string Student = "", string Device = "cpu", string DType = "float32")
{
    /// <summary>The compute dtype as a torch scalar type.</summary>
    /// <exception cref="InvalidDataException">The name is not a supported training dtype.</exception>
    public ScalarType ComputeDType
    {
        get
        {
            try
            {
                return Devices.ParseComputeDType(DType);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"train config: model.dtype: {e.Message}", e);
            }
        }
    }
}
