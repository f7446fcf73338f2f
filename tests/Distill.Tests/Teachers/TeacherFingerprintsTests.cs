using System.Security.Cryptography;
using Distill.Teachers;

namespace Distill.Tests.Teachers;

public class TeacherFingerprintsTests
{
    [Fact]
    public void Weights_Fingerprint_Should_Change_With_The_Weights_But_Not_Between_Identical_Folders()
    {
        using var a = new TinyTeacher(TinyTeacher.Vocab, seed: 11, conversations: 1);
        using var same = new TinyTeacher(TinyTeacher.Vocab, seed: 11, conversations: 1);
        using var other = new TinyTeacher(TinyTeacher.Vocab, seed: 12, conversations: 1);

        var fa = TeacherFingerprints.Compute(a.Path);

        Assert.Equal(fa, TeacherFingerprints.Compute(same.Path));
        Assert.NotEqual(fa.WeightsFingerprint, TeacherFingerprints.Compute(other.Path).WeightsFingerprint);
        Assert.Equal(fa.ConfigFingerprint, TeacherFingerprints.Compute(other.Path).ConfigFingerprint);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(a.Path, "config.json")))), fa.ConfigFingerprint);
        Assert.Equal(TinyTeacher.Vocab, fa.VocabSize);
    }

    [Fact]
    public void Weights_Fingerprint_Should_Name_A_File_Whose_Header_Overruns_It()
    {
        using var t = new TinyTeacher(conversations: 1);
        var weights = Path.Combine(t.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..100]);

        var e = Assert.Throws<InvalidDataException>(() => TeacherFingerprints.Weights(t.Path));

        Assert.Contains("model.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_Fingerprint_Should_Read_A_Header_Length_Of_Two_To_The_63_Unsigned_As_The_Reader_Does()
    {
        using var t = new TinyTeacher(conversations: 1);
        var weights = Path.Combine(t.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        BitConverter.GetBytes(1UL << 63).CopyTo(bytes, 0);
        File.WriteAllBytes(weights, bytes);

        var e = Assert.Throws<InvalidDataException>(() => TeacherFingerprints.Weights(t.Path));

        Assert.Contains("header length 9223372036854775808 exceeds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Should_Refuse_Token_Ids_Beyond_The_Teachers_Vocabulary_Naming_The_Line()
    {
        using var t = new TinyTeacher(vocab: 300, seed: 11, conversations: 2); // the chat markers are ids 400 and up

        var e = Assert.Throws<InvalidDataException>(() => TopKRunner.Run(new TopKOptions
        {
            Teacher = t.Path, Data = t.Data, Output = t.Sub("cache"), TopK = 3, ChatFormat = TinyTeacher.ChatFormat,
        }));

        Assert.Contains($"{t.Data}:1: token id", e.Message, StringComparison.Ordinal);
        Assert.Contains("vocabulary of 300", e.Message, StringComparison.Ordinal);
    }
}
