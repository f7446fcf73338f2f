namespace Distill.LogitCache;

/// <summary>
/// Summary of a cache for <c>distill inspect</c>. Per row r with stored logits t_k (k &lt; K) and log-sum-exp L, the teacher
/// probabilities of the stored entries are p_k = exp(t_k − L) and the top-K mass is m = Σ_k p_k.
/// </summary>
/// <param name="Examples">Examples in the cache.</param>
/// <param name="Tokens">Tokens over all examples.</param>
/// <param name="SupervisedRows">Rows (supervised target tokens).</param>
/// <param name="TopK">K.</param>
/// <param name="LogitDType">Storage dtype of the logits ("f32", "bf16", "f16"); ids are always i32, log-sum-exp f32.</param>
/// <param name="ComputeDType">The teacher's compute dtype ("fp32", "bf16"), or null when the manifest does not record it.</param>
/// <param name="Shards">Shard files.</param>
/// <param name="TotalBytes">Bytes of all shard files.</param>
/// <param name="BytesPerSupervisedToken">TotalBytes / SupervisedRows (0 without rows): the whole storage cost per supervised token.</param>
/// <param name="TopKMassMean">Mean of m over rows.</param>
/// <param name="TopKMassP5">5th percentile of m (nearest rank, ⌈0.05·R⌉-th smallest), resolved to 1e-6.</param>
/// <param name="EntropyLowerBoundMean">
/// Mean over rows of H_low = −Σ_k p_k ln p_k − (1−m) ln(1−m), in nats: the entropy of the distribution with the whole
/// tail lumped into one outcome, which can never exceed the teacher's true entropy.
/// </param>
/// <param name="EntropyUpperBoundMean">
/// Mean over rows of H_low + (1−m) ln(V−K), in nats: the tail spread evenly over the other V−K tokens, the largest
/// entropy consistent with the stored entries.
/// </param>
public sealed record CacheStatistics(
    long Examples,
    long Tokens,
    long SupervisedRows,
    int TopK,
    string LogitDType,
    string? ComputeDType,
    int Shards,
    long TotalBytes,
    double BytesPerSupervisedToken,
    double TopKMassMean,
    double TopKMassP5,
    double EntropyLowerBoundMean,
    double EntropyUpperBoundMean);
