using Distill.LogitCache;

namespace Distill.Tests.LogitCache;

public sealed class CacheExampleTests
{
    [Fact]
    public void Rows_Should_Belong_To_Supervised_Positions_After_The_First()
    {
        var example = new CacheExample([1, 2, 3, 4, 5], [0, 1, 0, 1, 1], 1, [2, 4, 5], [0f, 0f, 0f], [0f, 0.5f, 1f]);
        Assert.Equal(3, example.Rows);
        Assert.Equal([1, 3, 4], example.TargetPositions());
    }

    [Fact]
    public void Constructor_Should_Refuse_A_Target_At_Position_Zero()
    {
        var error = Assert.Throws<ArgumentException>(() => new CacheExample([1, 2], [1, 1], 1, [2, 3], [0f, 0f], [0f, 0f]));
        Assert.Contains("loss_mask[0]", error.Message);
    }

    [Theory]
    [InlineData(new[] { 0f, -1f, -0.5f }, "not descending")]
    [InlineData(new[] { -0.5f, -1f, -2f }, "expected 0")]
    [InlineData(new[] { 0f, float.NegativeInfinity, float.NegativeInfinity }, "not finite")]
    public void Constructor_Should_Refuse_Rows_That_Are_Not_Max_Subtracted_And_Descending(float[] logits, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new CacheExample([1, 2], [0, 1], 3, [4, 5, 6], logits, [1f]));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Constructor_Should_Refuse_A_Row_Count_That_Disagrees_With_The_Mask()
    {
        var error = Assert.Throws<ArgumentException>(() => new CacheExample([1, 2, 3], [0, 1, 1], 1, [2], [0f], [0f]));
        Assert.Contains("2 supervised targets", error.Message);
    }
}
