namespace Distill.Training;

/// <summary>The <c>optimizer</c> section: AdamW and its learning-rate schedule.</summary>
/// <param name="Lr">Peak learning rate (<c>lr</c>), &gt; 0.</param>
/// <param name="MinLr">Learning rate the schedule ends at (<c>min_lr</c>), in [0, lr].</param>
/// <param name="Schedule">Decay after the warmup (<c>schedule</c>).</param>
/// <param name="WarmupSteps">Steps of linear warmup from lr/warmup_steps up to lr (<c>warmup_steps</c>).</param>
/// <param name="WeightDecay">Decoupled weight decay (<c>weight_decay</c>); never applied to norms and biases.</param>
/// <param name="Beta1">First element of <c>betas</c>.</param>
/// <param name="Beta2">Second element of <c>betas</c>.</param>
/// <param name="Eps">AdamW's denominator term (<c>eps</c>).</param>
/// <param name="GradClip">Maximum global gradient L2 norm (<c>grad_clip</c>); 0 disables clipping.</param>
public sealed record OptimizerOptions(
    double Lr = 1e-5,
    double MinLr = 0.0,
    ScheduleKind Schedule = ScheduleKind.Cosine,
    int WarmupSteps = 0,
    double WeightDecay = 0.01,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Eps = 1e-8,
    double GradClip = 1.0);
