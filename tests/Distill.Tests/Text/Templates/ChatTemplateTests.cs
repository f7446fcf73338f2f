using Distill.Text;
using Distill.Text.Templates;

namespace Distill.Tests.Text;

/// <summary>ChatTemplate's context (what transformers passes to the template) and the built-in fallbacks.</summary>
public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] SystemUser = [new("system", "S"), new("user", "U")];

    [Fact]
    public void BuiltIn_Should_List_The_Known_Formats_For_An_Unknown_Name()
    {
        var ex = Assert.Throws<ArgumentException>(() => ChatTemplate.BuiltIn("alpaca"));
        Assert.Contains("chatml, llama2, llama3, mistral, zephyr", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["chatml", "llama2", "llama3", "mistral", "zephyr"], ChatTemplate.BuiltInFormats);
    }

    [Fact]
    public void BuiltIn_ChatML_Should_Wrap_Each_Turn_And_Open_The_Assistant_Turn()
    {
        var text = ChatTemplate.BuiltIn("chatml").Render(SystemUser, addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void BuiltIn_Llama3_Should_Put_Bos_First_And_Trim_Content()
    {
        var extra = new Dictionary<string, object?> { ["bos_token"] = "<|begin_of_text|>" };
        var text = ChatTemplate.BuiltIn("llama3").Render([new ChatMessage("user", " Hi\n")], addGenerationPrompt: true, extra);
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", text);
    }

    [Fact]
    public void BuiltIn_Llama2_Should_Fold_The_System_Prompt_Into_The_First_Instruction()
    {
        var extra = new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" };
        ChatMessage[] turns = [.. SystemUser, new("assistant", " A "), new("user", "V")];
        var text = ChatTemplate.BuiltIn("llama2").Render(turns, addGenerationPrompt: false, extra);
        Assert.Equal("<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST] A </s><s>[INST] V [/INST]", text);
    }

    [Fact]
    public void BuiltIn_Zephyr_Should_Add_The_Assistant_Header_After_The_Last_Turn()
    {
        var extra = new Dictionary<string, object?> { ["eos_token"] = "</s>" };
        var text = ChatTemplate.BuiltIn("zephyr").Render([new ChatMessage("user", "Hi")], addGenerationPrompt: true, extra);
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\n", text);
    }

    [Fact]
    public void BuiltIn_Mistral_Should_Prefix_The_System_Prompt_To_The_First_User_Turn()
    {
        var extra = new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" };
        ChatMessage[] turns = [.. SystemUser, new("assistant", "A")];
        var text = ChatTemplate.BuiltIn("mistral").Render(turns, addGenerationPrompt: false, extra);
        Assert.Equal("<s> [INST] S\n\nU [/INST] A</s>", text);
    }

    [Fact]
    public void Render_Should_Pass_Tools_And_Documents_As_None_Unless_Given()
    {
        var template = ChatTemplate.Parse("{{ tools is none }}|{{ tools is defined }}|{{ documents is none }}|{{ add_generation_prompt }}|{{ messages|length }}");
        Assert.Equal("True|True|True|False|2", template.Render(SystemUser, addGenerationPrompt: false));
        var withTools = new Dictionary<string, object?> { ["tools"] = new[] { new Dictionary<string, object?> { ["name"] = "f" } } };
        Assert.Equal("False|True|True|True|2", template.Render(SystemUser, addGenerationPrompt: true, withTools));
    }

    [Fact]
    public void Render_Should_Refuse_Extra_Context_That_Overrides_Messages()
    {
        var template = ChatTemplate.Parse("{{ messages }}");
        var extra = new Dictionary<string, object?> { ["messages"] = "no" };
        Assert.Throws<ArgumentException>(() => template.Render(SystemUser, addGenerationPrompt: false, extra));
    }

    [Fact]
    public void Render_Should_Give_Templates_The_Extra_Fields_Of_Dictionary_Messages()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}{{ m.role }}:{{ m.reasoning_content|default('-') }}:{{ m.content }};{% endfor %}", "qwen");
        var messages = new List<Dictionary<string, object?>>
        {
            new() { ["role"] = "user", ["content"] = "Q" },
            new() { ["role"] = "assistant", ["content"] = "A", ["reasoning_content"] = "R" },
        };
        Assert.Equal("user:-:Q;assistant:R:A;", template.Render(messages, addGenerationPrompt: false));
    }

    [Fact]
    public void Parse_Should_Name_The_Template_In_Errors()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ChatTemplate.Parse("{% if %}", "my-model/chat_template"));
        Assert.Contains("'my-model/chat_template'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("chat_template", ChatTemplate.Parse("x").Name);
    }
}
