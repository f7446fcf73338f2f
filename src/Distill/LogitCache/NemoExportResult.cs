namespace Distill.LogitCache;

/// <summary>What <see cref="NemoJsonl.Export"/> wrote; <see cref="ExamplesPerChunk"/> is NeMo's <c>n_examples_per_chunk</c>.</summary>
/// <param name="Files">The chunk files <c>&lt;name&gt;_0.jsonl</c> … <c>&lt;name&gt;_{C-1}.jsonl</c>.</param>
/// <param name="ExamplesPerChunk">Lines in every chunk file.</param>
/// <param name="RepeatedLines">Lines that repeat an earlier example (<see cref="NemoRemainder.Repeat"/>).</param>
/// <param name="DroppedExamples">Examples left out (<see cref="NemoRemainder.Drop"/>).</param>
public sealed record NemoExportResult(IReadOnlyList<string> Files, long ExamplesPerChunk, long RepeatedLines, long DroppedExamples);
