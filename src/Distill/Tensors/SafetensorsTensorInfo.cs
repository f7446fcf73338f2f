namespace Distill.Tensors;

/// <summary>
/// One tensor entry of a safetensors header. <see cref="Begin"/> and <see cref="End"/> are byte offsets relative to
/// the start of the data buffer (the byte after the JSON header), end exclusive.
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of the shape; 1 for a scalar (shape []), 0 when any dimension is 0.</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var d in Shape) count = checked(count * d);
            return count;
        }
    }

    /// <summary>Bytes the tensor occupies in the buffer; a file's header is only accepted when this equals ElementCount × element size.</summary>
    public long ByteLength => End - Begin;
}
