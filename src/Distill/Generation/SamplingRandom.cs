namespace Distill.Generation;

/// <summary>
/// The random numbers of <see cref="Sampler"/>, reproducible by construction and resumable: the whole state is one
/// 64-bit word (<see cref="State"/>), so a checkpoint saves it and <see cref="FromState"/> continues bit-identically.
/// Each sampled prompt takes one 64-bit seed from this stream, in prompt order, and draws its own uniforms from it
/// (SplitMix64, one per decode step). A row's draws therefore do not depend on which other prompts share its batch:
/// one batch of n prompts and n calls of one prompt each consume the stream alike and sample the same tokens.
/// </summary>
public sealed class SamplingRandom
{
    private ulong _state;

    /// <summary>A stream seeded by <paramref name="seed"/>; the same seed gives the same samples on every machine.</summary>
    public SamplingRandom(long seed) => _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ 0x5DEECE66DUL);

    private SamplingRandom(ulong state, bool _) => _state = state;

    /// <summary>The whole state: save it with a checkpoint and pass it to <see cref="FromState"/> to resume.</summary>
    public ulong State => _state;

    /// <summary>The stream at a saved <see cref="State"/>.</summary>
    public static SamplingRandom FromState(ulong state) => new(state, false);

    /// <summary>The seed of the next prompt's own stream.</summary>
    internal ulong NextRowSeed() => SplitMix64.Next(ref _state);

    /// <summary>
    /// A uniform in [0, 1) from a row's stream: the top 24 bits of the next SplitMix64 word, exact in fp32.
    /// </summary>
    internal static float NextUniform(ref ulong rowState) => (SplitMix64.Next(ref rowState) >> 40) * (1.0f / (1 << 24));
}
