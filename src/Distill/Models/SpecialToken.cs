namespace Distill.Models;

/// <summary>One special token as one file of a model folder declares it.</summary>
/// <param name="Role">"bos", "eos", "pad" or "unk".</param>
/// <param name="Source">The file: config.json, generation_config.json or tokenizer_config.json.</param>
/// <param name="Ids">Token ids, when the file gives ids or tokenizer.json resolves the text; else null.</param>
/// <param name="Text">The token's text, when the file gives it (tokenizer_config.json); else null.</param>
public sealed record SpecialToken(string Role, string Source, IReadOnlyList<int>? Ids, string? Text);
