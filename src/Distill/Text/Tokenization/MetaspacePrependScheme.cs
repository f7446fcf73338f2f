namespace Distill.Text.Tokenization;

/// <summary>When Metaspace puts a '▁' in front of a piece: always, only at the very start of the input, or never.</summary>
internal enum MetaspacePrependScheme
{
    Always,
    First,
    Never,
}
