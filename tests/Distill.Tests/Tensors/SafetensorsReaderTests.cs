using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public class SafetensorsReaderTests
{
    // Entries deliberately listed out of offset order, as older writers did.
    private const string MixedHeader = """
        {"bias":{"dtype":"I64","shape":[3],"data_offsets":[24,48]},
         "__metadata__":{"format":"pt","note":"hand made"},
         "weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
         "scale":{"dtype":"F64","shape":[],"data_offsets":[58,66]},
         "half":{"dtype":"BF16","shape":[5],"data_offsets":[48,58]}}
        """;

    private static byte[] MixedData() => RawSafetensors.Concat(
        RawSafetensors.F32(1f, -2f, 3.5f, 0.25f, 1e-3f, -7f),
        RawSafetensors.I64(5, -1, long.MaxValue),
        // bf16 bit patterns of 1, -2, 0.5, 3, -0 (sign, 8-bit exponent, 7-bit mantissa)
        RawSafetensors.U16(0x3F80, 0xC000, 0x3F00, 0x4040, 0x8000),
        RawSafetensors.F64(Math.PI));

    private static string WriteMixed(TempFolder dir)
    {
        var path = dir.File("mixed.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(MixedHeader, MixedData()));
        return path;
    }

    [Fact]
    public void Open_Should_List_Tensors_In_Data_Offset_Order_With_Header_Fields()
    {
        using var dir = new TempFolder();
        using var file = SafetensorsFile.Open(WriteMixed(dir));

        Assert.Equal(new[] { "weight", "bias", "half", "scale" }, file.Tensors.Select(t => t.Name));
        var weight = file.Info("weight");
        Assert.Equal(SafetensorsDType.F32, weight.DType);
        Assert.Equal(new long[] { 2, 3 }, weight.Shape);
        Assert.Equal((0L, 24L, 6L, 24L), (weight.Begin, weight.End, weight.ElementCount, weight.ByteLength));
        Assert.Equal(1L, file.Info("scale").ElementCount);
        Assert.True(file.Contains("half"));
        Assert.False(file.Contains("__metadata__"));
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["note"] = "hand made" }, file.Metadata);
    }

    [Fact]
    public void Load_Should_Return_The_Hand_Encoded_Values()
    {
        using var dir = new TempFolder();
        using var file = SafetensorsFile.Open(WriteMixed(dir));
        using var scope = NewDisposeScope();

        var weight = file.Load("weight");
        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.Equal(new long[] { 2, 3 }, weight.shape);
        Assert.Equal(new[] { 1f, -2f, 3.5f, 0.25f, 1e-3f, -7f }, weight.data<float>().ToArray());
        Assert.Equal(new[] { 5L, -1L, long.MaxValue }, file.Load("bias").data<long>().ToArray());

        var scale = file.Load("scale");
        Assert.Empty(scale.shape);
        Assert.Equal(Math.PI, scale.item<double>());
    }

    [Fact]
    public void Load_Should_Convert_BF16_Bits_To_The_Requested_DType()
    {
        using var dir = new TempFolder();
        using var file = SafetensorsFile.Open(WriteMixed(dir));
        using var scope = NewDisposeScope();

        var half = file.Load("half", ScalarType.Float32, CPU);

        Assert.Equal(ScalarType.Float32, half.dtype);
        var values = half.data<float>().ToArray();
        Assert.Equal(new[] { 1f, -2f, 0.5f, 3f, 0f }, values);
        Assert.True(float.IsNegative(values[4]));
    }

    [Fact]
    public void GetBytes_Should_Return_The_Tensor_Bytes_From_The_Buffer()
    {
        using var dir = new TempFolder();
        using var file = SafetensorsFile.Open(WriteMixed(dir));

        Assert.Equal(RawSafetensors.U16(0x3F80, 0xC000, 0x3F00, 0x4040, 0x8000), file.GetBytes("half").ToArray());
        Assert.Equal(RawSafetensors.F64(Math.PI), file.GetBytes("scale").ToArray());
    }

    [Fact]
    public void Info_Should_Throw_Naming_File_And_Tensor_When_Absent()
    {
        using var dir = new TempFolder();
        var path = WriteMixed(dir);
        using var file = SafetensorsFile.Open(path);

        var e = Assert.Throws<InvalidDataException>(() => file.Info("lm_head.weight"));
        Assert.Contains(path, e.Message);
        Assert.Contains("lm_head.weight", e.Message);
        Assert.Throws<InvalidDataException>(() => file.Load("lm_head.weight"));
    }

    [Fact]
    public void Open_Should_Accept_A_Header_Without_Tensors_Padded_With_Spaces()
    {
        using var dir = new TempFolder();
        var path = dir.File("empty.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build("{}      ", []));

        using var file = SafetensorsFile.Open(path);

        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Open_Should_Accept_Empty_Tensors_Sharing_An_Offset()
    {
        using var dir = new TempFolder();
        var path = dir.File("empties.safetensors");
        var header = """
            {"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},
             "b":{"dtype":"I32","shape":[3],"data_offsets":[0,12]},
             "c":{"dtype":"F16","shape":[3,0,5],"data_offsets":[12,12]},
             "__metadata__":null}
            """;
        File.WriteAllBytes(path, RawSafetensors.Build(header, RawSafetensors.I32(3, 5, 7)));
        using var file = SafetensorsFile.Open(path);
        using var scope = NewDisposeScope();

        Assert.Equal(new[] { "a", "b", "c" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new long[] { 0 }, file.Load("a").shape);
        Assert.Equal(new long[] { 3, 0, 5 }, file.Load("c").shape);
        Assert.Equal(new[] { 3, 5, 7 }, file.Load("b").data<int>().ToArray());
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Load_Should_Refuse_Unsigned_Types_TorchSharp_Lacks_But_GetBytes_Should_Expose_Them()
    {
        using var dir = new TempFolder();
        var path = dir.File("u16.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build("""{"u":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}}""", RawSafetensors.U16(1, 65535)));
        using var file = SafetensorsFile.Open(path);

        Assert.Equal(RawSafetensors.U16(1, 65535), file.GetBytes("u").ToArray());
        var e = Assert.Throws<NotSupportedException>(() => file.Load("u"));
        Assert.Contains("'u'", e.Message);
    }

    [Fact]
    public void Open_Should_Throw_FileNotFound_For_A_Missing_File()
    {
        using var dir = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(dir.File("missing.safetensors")));
    }
}
