using Distill.Tensors;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>The <c>model</c> section: which student (and live teacher), where, and in which precision.</summary>
/// <param name="Student">Hugging Face folder of the student to train (<c>student</c>).</param>
/// <param name="Device">Torch device (<c>device</c>): "cpu", "cuda", "cuda:1".</param>
/// <param name="DType">
/// Compute dtype (<c>dtype</c>): "float32", or "bfloat16" for a bf16 model with fp32 master weights and
/// fp32 optimizer state (TorchSharp has no autocast, so the precision split is done by hand).
/// </param>
/// <param name="Teacher">
/// Hugging Face folder of a live teacher (<c>teacher</c>), run beside the student on every micro-batch (online KD);
/// null for offline KD from a logit cache or plain SFT.
/// </param>
/// <param name="TeacherDType">The live teacher's dtype (<c>teacher_dtype</c>): "float32" or "bfloat16"; null = <c>dtype</c>.</param>
/// <param name="TeacherUrl">
/// An OpenAI-compatible server as the teacher (<c>teacher_url</c>): it scores the student's tokens through
/// <c>/v1/completions</c>, which is what <c>sampled_rkl</c> needs; null for none.
/// </param>
/// <param name="TeacherModel">The model name to ask the server for (<c>teacher_model</c>); null asks /v1/models.</param>
/// <param name="TeacherTopK">
/// The live teacher answers with its top-K rows computed on the fly (<c>teacher_top_k</c>), as a cache would hold them,
/// instead of its full vocabulary; null for the full vocabulary.
/// </param>
public sealed record ModelOptions(string Student = "", string Device = "cpu", string DType = "float32",
    string? Teacher = null, string? TeacherDType = null, int? TeacherTopK = null, string? TeacherUrl = null, string? TeacherModel = null)
{
    /// <summary>True when a live teacher (a local folder or a server) answers during training.</summary>
    public bool HasLiveTeacher => Teacher is not null || TeacherUrl is not null;

    /// <summary>The compute dtype as a torch scalar type.</summary>
    /// <exception cref="InvalidDataException">The name is not a supported training dtype.</exception>
    public ScalarType ComputeDType => Parse(DType, "model.dtype");

    /// <summary>The live teacher's dtype as a torch scalar type (the student's compute dtype unless set).</summary>
    /// <exception cref="InvalidDataException">The name is not a supported dtype.</exception>
    public ScalarType TeacherComputeDType => TeacherDType is null ? ComputeDType : Parse(TeacherDType, "model.teacher_dtype");

    private static ScalarType Parse(string name, string key)
    {
        try
        {
            return Devices.ParseComputeDType(name);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"train config: {key}: {e.Message}", e);
        }
    }
}
