using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>Position ids and attention masks derived from a padding mask.</summary>
public static class AttentionMasks
{
    /// <summary>
    /// [B, T] int64 positions: 0.. over the real tokens of each row (cumulative sum of the mask minus 1),
    /// so left- and right-padded rows give each real token the position it has unpadded. Pads get 1,
    /// as Hugging Face's generate does; their outputs are never used.
    /// </summary>
    public static Tensor PositionIds(Tensor? attentionMask, long batch, long length, Device device)
    {
        using var scope = NewDisposeScope();
        if (attentionMask is null)
            return arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(batch, length).MoveToOuterDisposeScope();
        var mask = attentionMask.to_type(ScalarType.Int64);
        var positions = mask.cumsum(-1) - 1;
        return positions.masked_fill(mask.eq(0), 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [B, 1, T, T] bool, true where query t may attend key s: s ≤ t, key s is a real token, and (with a
    /// sliding window W) t − s &lt; W. Each query may also always attend itself: a left-padding query has
    /// no real key before it, and a fully masked softmax row would be NaN. Null when plain causal suffices.
    /// </summary>
    public static Tensor? Build(Tensor? attentionMask, long length, int? slidingWindow, Device device)
    {
        var windowed = slidingWindow is { } w && w < length;
        if (attentionMask is null && !windowed) return null;
        using var scope = NewDisposeScope();
        var query = arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(1); // [T, 1]
        var key = arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(0); // [1, T]
        var allowed = key.le(query); // [T, T]
        if (windowed) allowed = allowed.logical_and((query - key).lt(slidingWindow!.Value));
        var batched = allowed.unsqueeze(0); // [1, T, T]
        if (attentionMask is not null)
            batched = batched.logical_and(attentionMask.ne(0).unsqueeze(1)); // [B, T, T]
        batched = batched.logical_or(eye(length, dtype: ScalarType.Bool, device: device).unsqueeze(0));
        return batched.unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [1, 1, T, S + T] bool for T new queries after S cached keys: query t (at position S + t) may attend key s
    /// when s ≤ S + t and, with a sliding window W, S + t − s &lt; W. Never null: the causal flag of
    /// scaled_dot_product_attention aligns its triangle to the top left, which is wrong once S &gt; 0.
    /// With a padding mask [B, S + T] it is [B, 1, T, S + T] and padding keys are also excluded; each query may
    /// always attend itself (a padding query has no real key, and a fully masked softmax row would be NaN).
    /// The window counts cache slots, not positions: padding is only ever on the left of a decoding row, so the
    /// two differ by the same offset for query and key.
    /// </summary>
    public static Tensor Cached(long past, long length, int? slidingWindow, Device device, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        var query = arange(past, past + length, dtype: ScalarType.Int64, device: device).unsqueeze(1); // [T, 1]
        var key = arange(past + length, dtype: ScalarType.Int64, device: device).unsqueeze(0);         // [1, S + T]
        var allowed = key.le(query);
        if (slidingWindow is { } w) allowed = allowed.logical_and((query - key).lt(w));
        var batched = allowed.unsqueeze(0); // [1, T, S + T]
        if (attentionMask is not null)
            batched = batched.logical_and(attentionMask.ne(0).unsqueeze(1)).logical_or(key.eq(query).unsqueeze(0)); // [B, T, S + T]
        return batched.unsqueeze(1).MoveToOuterDisposeScope();
    }
}
