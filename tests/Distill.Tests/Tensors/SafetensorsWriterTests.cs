using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Distill.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Tensors;

public class SafetensorsWriterTests
{
    private static IEnumerable<KeyValuePair<string, Tensor>> ThrowsAfterFirst(Tensor first)
    {
        yield return new("first", first);
        throw new InvalidOperationException("producer failed");
    }

    [Fact]
    public void Write_Should_Produce_The_Documented_Byte_Layout()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("layout.safetensors");

        SafetensorsWriter.Write(path,
        [
            new("w", tensor(new[] { 1.5f, -2f, 0.25f })),
            new("ids", tensor(new[] { 7L, -9L })),
            new("s", tensor(1f).to_type(ScalarType.BFloat16)),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 12 + 16 + 2, bytes.Length);

        var headerText = Encoding.UTF8.GetString(bytes, 8, n);
        var json = headerText.TrimEnd(' ');
        Assert.EndsWith("}", json);
        Assert.True(n - json.Length < 8, "padding is shorter than the alignment");

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(new[] { "__metadata__", "w", "ids", "s" }, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
        AssertEntry(root.GetProperty("w"), "F32", [3], 0, 12);
        AssertEntry(root.GetProperty("ids"), "I64", [2], 12, 28);
        AssertEntry(root.GetProperty("s"), "BF16", [], 28, 30);

        var data = bytes.AsSpan(8 + n);
        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(data[0..]));
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(data[4..]));
        Assert.Equal(0.25f, BinaryPrimitives.ReadSingleLittleEndian(data[8..]));
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(data[12..]));
        Assert.Equal(-9L, BinaryPrimitives.ReadInt64LittleEndian(data[20..]));
        Assert.Equal((ushort)0x3F80, BinaryPrimitives.ReadUInt16LittleEndian(data[28..])); // bf16 1.0
    }

    private static void AssertEntry(JsonElement entry, string dtype, long[] shape, long begin, long end)
    {
        Assert.Equal(new[] { "dtype", "shape", "data_offsets" }, entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(dtype, entry.GetProperty("dtype").GetString());
        Assert.Equal(shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { begin, end }, entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public void Write_Should_Leave_No_File_When_The_Tensor_Sequence_Throws_Midway()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("partial.safetensors");

        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, ThrowsAfterFirst(ones(3))));

        Assert.Empty(Directory.GetFileSystemEntries(dir.Root));
    }

    [Fact]
    public void Write_Should_Keep_The_Previous_File_Intact_When_It_Fails()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, [new("old", tensor(new[] { 1, 2, 3 }))]);
        var before = File.ReadAllBytes(path);

        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, ThrowsAfterFirst(ones(3))));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Write_Should_Delete_The_Temp_File_When_The_Final_Rename_Fails()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("taken");
        Directory.CreateDirectory(path); // a directory cannot be replaced by a file

        Assert.ThrowsAny<IOException>(() => SafetensorsWriter.Write(path, [new("x", ones(3))]));

        Assert.False(File.Exists(path + ".tmp"));
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void Write_Should_Reject_Duplicate_And_Reserved_Names_Before_Creating_A_File()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("bad.safetensors");

        var dup = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("x", ones(3)), new("x", ones(5))]));
        Assert.Contains("'x'", dup.Message);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("__metadata__", ones(3))]));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Root));
    }

    [Fact]
    public void Write_Should_Refuse_Complex_Tensors_Naming_Them()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();

        var e = Assert.Throws<NotSupportedException>(() =>
            SafetensorsWriter.Write(dir.File("c.safetensors"), [new("z", zeros(3, dtype: ScalarType.ComplexFloat32))]));

        Assert.Contains("'z'", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Root));
    }

    [Fact]
    public void Overwriting_Should_Not_Disturb_A_Reader_Of_The_Old_File()
    {
        using var dir = new TempFolder();
        using var scope = NewDisposeScope();
        var path = dir.File("live.safetensors");
        SafetensorsWriter.Write(path, [new("x", tensor(new[] { 1, 2, 3 }))]);
        using var old = SafetensorsFile.Open(path);

        SafetensorsWriter.Write(path, [new("x", tensor(new[] { 4, 5, 6, 7, 8 }))]);
        using var fresh = SafetensorsFile.Open(path);

        Assert.Equal(new[] { 1, 2, 3 }, old.Load("x").data<int>().ToArray());
        Assert.Equal(new[] { 4, 5, 6, 7, 8 }, fresh.Load("x").data<int>().ToArray());
    }
}
