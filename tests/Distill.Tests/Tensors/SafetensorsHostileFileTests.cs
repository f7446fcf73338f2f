using System.Text;
using Distill.Tensors;

namespace Distill.Tests.Tensors;

public class SafetensorsHostileFileTests
{
    private static void AssertRejected(byte[] contents, string? tensor, string reason)
    {
        using var dir = new TempFolder();
        var path = dir.File("hostile.safetensors");
        File.WriteAllBytes(path, contents);

        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, e.Message);
        if (tensor is not null) Assert.Contains($"'{tensor}'", e.Message);
        Assert.Contains(reason, e.Message);
    }

    public static TheoryData<string, int, string?, string> BadHeaders => new()
    {
        { """{"w": {"dtype":""", 0, null, "not valid JSON" },
        { """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}""", 4, null, "not valid JSON" },
        { """[1, 2]""", 0, null, "must be a JSON object" },
        { """{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2, "w", "unknown dtype 'F8_E4M3'" },
        { """{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", 4, "w", "unknown dtype 'f32'" },
        { """{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}""", 4, "w", "dtype must be a string" },
        { """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, "w", "past the end of the data buffer" },
        { """{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}""", 8, "w", "begin after end" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "b", "overlap tensor 'a'" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", 20, "b", "4 unused bytes" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "a", "start of the buffer" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12, "a", "4 bytes after the last tensor" },
        { """{}""", 4, null, "4 bytes after the last tensor" },
        { """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "w", "needs 12 bytes" },
        { """{"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}""", 8, "w", "overflows" },
        { """{"w":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,8]}}""", 8, "w", "overflows" },
        { """{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}""", 8, "w", "non-negative integer" },
        { """{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "w", "non-negative integer" },
        { """{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}""", 8, "w", "non-negative integer" },
        { """{"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}""", 8, "w", "non-negative integer" },
        { """{"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}""", 8, "w", "shape must be an array" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}""", 8, "w", "data_offsets must be [begin, end]" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}}""", 8, "w", "non-negative integer" },
        { """{"w":{"dtype":"F32","shape":[2]}}""", 8, "w", "missing field 'data_offsets'" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":[0,8]}}""", 8, "w", "unknown field 'offsets'" },
        { """{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "w", "duplicate field 'dtype'" },
        { """{"w":[0,8]}""", 8, "w", "must be a JSON object" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "w", "duplicate key" },
        { """{"__metadata__":{"format":1}}""", 0, "__metadata__", "key 'format' must map to a string" },
        { """{"__metadata__":{"format":{"nested":"pt"}}}""", 0, "__metadata__", "key 'format' must map to a string" },
        { """{"__metadata__":["pt"]}""", 0, "__metadata__", "must be an object of strings" },
        { """{"__metadata__":{"format":"pt","format":"np"}}""", 0, "__metadata__", "duplicate key 'format'" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Open_Should_Throw_InvalidData_Naming_File_Tensor_And_Reason_For_Bad_Header(string header, int dataBytes, string? tensor, string reason)
    {
        AssertRejected(RawSafetensors.Build(header, new byte[dataBytes]), tensor, reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Open_Should_Throw_When_File_Is_Shorter_Than_The_Length_Prefix(int length)
    {
        AssertRejected(new byte[length], null, "shorter than the 8-byte header length");
    }

    [Fact]
    public void A_Megabyte_Tensor_Name_Should_Be_Quoted_Only_By_Its_Prefix()
    {
        using var dir = new TempFolder();
        var path = dir.File("hostile.safetensors");
        var name = new string('n', 1 << 20);
        var header = Encoding.UTF8.GetBytes("{\"" + name + "\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0]);

        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));

        Assert.Contains("unknown dtype", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 1000, $"{e.Message.Length} characters");
    }

    [Fact]
    public void Open_Should_Throw_When_Header_Length_Overruns_File()
    {
        var header = Encoding.UTF8.GetBytes("{}");
        AssertRejected(RawSafetensors.Concat(RawSafetensors.LengthPrefix(100), header), null, "runs past the end of the 10-byte file");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void Open_Should_Throw_Without_Allocating_When_Header_Length_Is_Huge(ulong length)
    {
        AssertRejected(RawSafetensors.Concat(RawSafetensors.LengthPrefix(length), Encoding.UTF8.GetBytes("{}")), null, "exceeds the 100000000-byte limit");
    }

    [Fact]
    public void Open_Should_Throw_When_Header_Is_Not_UTF8()
    {
        var header = RawSafetensors.Concat(Encoding.UTF8.GetBytes("{\"w"), [0xC3, 0x28], Encoding.UTF8.GetBytes("\":{}}"));
        AssertRejected(RawSafetensors.Build(header, []), null, "not valid UTF-8");
    }

    [Fact]
    public void Open_Should_Throw_Naming_The_Last_Tensor_When_The_File_Is_Truncated()
    {
        var header = """{"a":{"dtype":"I32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"I32","shape":[5],"data_offsets":[12,32]}}""";
        var whole = RawSafetensors.Build(header, RawSafetensors.I32(1, 2, 3, 4, 5, 6, 7, 8));
        AssertRejected(whole[..^3], "b", "past the end of the data buffer (29 bytes");
    }
}
