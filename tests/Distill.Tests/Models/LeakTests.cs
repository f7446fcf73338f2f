using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Models;

public class LeakTests
{
    [Fact]
    public void Two_Hundred_Forward_Backward_Steps_Leave_The_Live_Tensor_Count_Flat()
    {
        var json = TinyModels.ConfigJson(kvHeads: 2);
        json["num_hidden_layers"] = 1; // one layer exercises every module; more only adds time
        using var model = TinyModels.Create(json);
        using var ids = TinyModels.RandomIds(2, 3);
        using var mask = tensor(new long[,] { { 1, 1, 1 }, { 0, 1, 1 } });
        var statistics = DisposeScopeManager.Statistics;

        void Step()
        {
            using var scope = NewDisposeScope();
            var output = model.Forward(new Distill.Models.CausalLMInput { InputIds = ids, AttentionMask = mask, OutputHiddenStates = true });
            output.Logits!.square().mean().backward();
            model.zero_grad();
        }

        for (var i = 0; i < 3; i++) Step();
        var live = statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 200; i++) Step();

        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }
}
