using Distill.Training;

namespace Distill.Tests.Training;

public class DataOrderTests
{
    [Fact]
    public void At_Should_Visit_Every_Example_Once_Per_Epoch_And_Reshuffle_Each_Epoch()
    {
        var order = new DataOrder(7, seed: 3);
        var epoch0 = order.Range(0, 7);
        var epoch1 = order.Range(7, 7);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
    }

    [Fact]
    public void At_Should_Depend_Only_On_Seed_And_Position()
    {
        var sequential = new DataOrder(5, seed: 9).Range(0, 17);
        var fresh = Enumerable.Range(0, 17).Select(p => new DataOrder(5, seed: 9).At(16 - p)).Reverse();
        Assert.Equal(sequential, fresh);
        Assert.NotEqual(sequential, new DataOrder(5, seed: 10).Range(0, 17));
    }
}
