using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public class SafetensorsRoundTripTests
{
    /// <summary>A tensor filled with random bytes, so every bit pattern (NaN payloads, subnormals, -0) is exercised.</summary>
    private static (Tensor Tensor, byte[] Bytes) RandomBits(ScalarType dtype, long[] shape, int seed)
    {
        var tensor = empty(shape, dtype);
        var bytes = new byte[tensor.NumberOfElements * tensor.ElementSize];
        new Random(seed).NextBytes(bytes);
        // bool storage must hold 0 or 1
        if (dtype == ScalarType.Bool) for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        bytes.CopyTo(tensor.bytes);
        return (tensor, bytes);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Int8)]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Bool)]
    public void Write_Then_Load_Should_Round_Trip_Bit_Exact(ScalarType dtype)
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("rt.safetensors");
        var (a, aBytes) = RandomBits(dtype, [3, 5, 7], seed: 1);
        var (b, bBytes) = RandomBits(dtype, [31], seed: 2);

        SafetensorsWriter.Write(path, [new("a", a), new("b", b)]);
        using var file = SafetensorsFile.Open(path);

        var loaded = file.Load("a");
        Assert.Equal(dtype, loaded.dtype);
        Assert.Equal(new long[] { 3, 5, 7 }, loaded.shape);
        Assert.Equal(aBytes, loaded.bytes.ToArray());
        Assert.Equal(bBytes, file.Load("b").bytes.ToArray());
        Assert.Equal(bBytes, file.GetBytes("b").ToArray());
        Assert.Equal(DTypes.FromTorch(dtype), file.Info("a").DType);
    }

    [Fact]
    public void Write_Then_Load_Should_Round_Trip_Scalars_And_Empty_Tensors()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("odd.safetensors");

        SafetensorsWriter.Write(path,
        [
            new("scalar", tensor(-3.25f)),
            new("empty", zeros(0, dtype: ScalarType.BFloat16)),
            new("hollow", zeros([3, 0, 5], ScalarType.Int64)),
            new("after", tensor(new[] { 7, 11 })),
        ]);
        using var file = SafetensorsFile.Open(path);

        var scalar = file.Load("scalar");
        Assert.Empty(scalar.shape);
        Assert.Equal(-3.25f, scalar.item<float>());
        Assert.Equal(new long[] { 0 }, file.Load("empty").shape);
        Assert.Equal(new long[] { 3, 0, 5 }, file.Load("hollow").shape);
        Assert.Equal(0, file.GetBytes("hollow").Length);
        Assert.Equal(new[] { 7, 11 }, file.Load("after").data<int>().ToArray());
    }

    [Fact]
    public void Write_Should_Store_Non_Contiguous_Tensors_In_Row_Major_Order()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("t.safetensors");
        var transposed = arange(6, dtype: ScalarType.Float32).reshape(2, 3).t(); // [3, 2] view, not contiguous

        SafetensorsWriter.Write(path, [new("t", transposed)]);
        using var file = SafetensorsFile.Open(path);

        Assert.Equal(new long[] { 3, 2 }, file.Info("t").Shape);
        Assert.Equal(new[] { 0f, 3f, 1f, 4f, 2f, 5f }, file.Load("t").data<float>().ToArray());
    }

    [Fact]
    public void Load_Should_Convert_To_The_Requested_DType()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("c.safetensors");
        SafetensorsWriter.Write(path, [new("x", tensor(new[] { 1.5f, -2f, 1024f }))]);
        using var file = SafetensorsFile.Open(path);

        var bf16 = file.Load("x", ScalarType.BFloat16);

        Assert.Equal(ScalarType.BFloat16, bf16.dtype);
        Assert.Equal(new[] { 1.5f, -2f, 1024f }, bf16.to_type(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void Load_Should_Return_A_Tensor_That_Outlives_The_File_And_Leaks_Nothing()
    {
        using var dir = new TempFolder();
        var path = dir.File("l.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(path, [new("x", arange(5, dtype: ScalarType.Float32))]);

        using var outer = NewDisposeScope();
        Tensor loaded;
        using (var file = SafetensorsFile.Open(path))
        {
            loaded = file.Load("x", ScalarType.Float64);
        }

        Assert.Equal(1, outer.DisposablesCount);
        Assert.Equal(new[] { 0.0, 1, 2, 3, 4 }, loaded.data<double>().ToArray());
    }

    [Fact]
    public void Write_Then_Open_Should_Keep_Metadata_And_Write_Order()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("m.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["teacher"] = "llama-3 8B — ünïcode" };

        SafetensorsWriter.Write(path, [new("z", ones(3)), new("a", ones(5)), new("m", ones(7))], metadata);
        using var file = SafetensorsFile.Open(path);

        Assert.Equal(new[] { "z", "a", "m" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(path, file.Path);
    }
}
