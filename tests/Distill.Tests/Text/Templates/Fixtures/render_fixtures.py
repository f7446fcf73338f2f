"""Renders every chat template fixture with Jinja2 configured as Hugging Face transformers
configures it, and writes the expected outputs that the C# tests compare against byte for byte.

Run from this folder: python3 render_fixtures.py   (needs jinja2 3.1.x; transformers is not needed)

The environment mirrors transformers.utils.chat_template_utils: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and the loopcontrols extension; `tojson` is json.dumps with
ensure_ascii=False and no key sorting; globals raise_exception and strftime_now. The context holds
messages, tools (None unless given), documents (None), add_generation_prompt, the tokenizer's special
tokens, and any extra keyword arguments of the case.
"""

import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        raise RuntimeError("fixtures must pass date_string so that they do not depend on the clock")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def m(role, content, **extra):
    return {"role": role, "content": content, **extra}


TRICKY = 'Braces {{ not a tag }} {% raw %} {# nor a comment #} and "double" \'single\' quotes, a back\\slash, a tab\there'
UNICODE = "Grüße 👋 — 日本語, émoji 🎉🧪 and a zero-width joiner 👩‍💻"

# Conversations made only of role/content pairs: ChatTemplate.Render renders these as well.
PLAIN = {
    "single_user": [m("user", "Hi")],
    "system_user": [m("system", "You are terse."), m("user", "What is 2+2?")],
    "multi_turn_system": [
        m("system", "  You are a careful assistant.\n"),
        m("user", "Name a prime."),
        m("assistant", "7"),
        m("user", "Another one, please.  "),
    ],
    "multi_turn_ends_assistant": [
        m("user", "Ping"),
        m("assistant", "Pong"),
        m("user", "Again"),
        m("assistant", " Pong again \n"),
    ],
    "unicode": [m("user", UNICODE), m("assistant", "Danke! 🙂")],
    "braces_quotes": [m("system", "Keep {braces} as they are."), m("user", TRICKY)],
    "multiline": [m("user", "line one\nline two\n\n  indented line\n"), m("assistant", "\nok\n")],
}

QWEN3_EXTRA = {
    "think_in_content_last": (
        [m("user", "Why?"), m("assistant", "<think>\nBecause reasons.\n</think>\n\nBecause.")],
        {},
    ),
    "think_in_content_history": (
        [
            m("user", "Q1"),
            m("assistant", "<think>\nold thought\n</think>\n\nA1"),
            m("user", "Q2"),
            m("assistant", "<think>new thought</think>A2"),
        ],
        {},
    ),
    "reasoning_content_field": (
        [m("user", "Q"), m("assistant", "Answer.", reasoning_content="\nI pondered.\n")],
        {},
    ),
    "thinking_disabled": ([m("system", "Be brief."), m("user", "Hello")], {"enable_thinking": False}),
    "thinking_enabled": ([m("user", "Hello")], {"enable_thinking": True}),
    "tools_and_calls": (
        [
            m("system", "Use tools."),
            m("user", "Weather in Paris?"),
            m("assistant", "", tool_calls=[{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "°C"}}}]),
            m("tool", '{"temp": 21}'),
            m("tool", '{"wind": "5 km/h"}'),
            m("assistant", "It is 21 °C."),
        ],
        {"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather \"now\"", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]},
    ),
}

QWEN25_EXTRA = {
    "tools_and_calls": (
        [
            m("user", "Weather in Köln?"),
            m("assistant", None, tool_calls=[{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Köln"}}}]),
            m("tool", "18 degrees"),
        ],
        {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]},
    ),
}

LLAMA31_EXTRA = {
    "custom_date": ([m("user", "Date?")], {"date_string": "03 Feb 2025"}),
    "tools_in_user_message": (
        [m("system", "Sys"), m("user", "  Call it.  "), m("assistant", "", tool_calls=[{"function": {"name": "calc", "arguments": {"x": 3, "y": [1.5, True, None]}}}]), m("tool", {"result": 7})],
        {"tools": [{"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}]},
    ),
    "builtin_tools": (
        [m("user", "Search."), m("assistant", "", tool_calls=[{"function": {"name": "brave_search", "arguments": {"query": "jinja"}}}])],
        {"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]},
    ),
}

MISTRAL3_EXTRA = {
    "tools_and_calls": (
        [
            m("system", "Sys"),
            m("user", "first"),
            m("assistant", "ok"),
            m("user", "Weather?"),
            {"role": "assistant", "tool_calls": [{"id": "abc123def", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
            {"role": "tool", "tool_call_id": "abc123def", "content": "sunny"},
        ],
        {"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "return": {"type": "string"}}}]},
    ),
}

DEEPSEEK_EXTRA = {
    "tool_calls_and_outputs": (
        [
            m("system", "Sys"),
            m("user", "Weather?"),
            m("assistant", None, tool_calls=[{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
                                             {"type": "function", "function": {"name": "get_time", "arguments": "{}"}}]),
            m("tool", "cold"),
            m("tool", "noon"),
            m("assistant", "<think>\nhmm\n</think>\n\nCold at noon."),
        ],
        {},
    ),
}

ERRORS = {
    "two_users": [m("user", "a"), m("user", "b")],
    "assistant_first": [m("assistant", "a"), m("user", "b")],
    "system_in_middle": [m("user", "a"), m("assistant", "b"), m("system", "c")],
}

LLAMA3_TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
QWEN_TOKENS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
MISTRAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}

TEMPLATES = [
    ("llama-3.1-instruct", LLAMA3_TOKENS, {}, LLAMA31_EXTRA, False),
    ("llama-3.2-instruct", LLAMA3_TOKENS, {"date_string": "26 Jul 2024"}, {}, False),
    ("qwen2.5-instruct", QWEN_TOKENS, {}, QWEN25_EXTRA, False),
    ("qwen3", QWEN_TOKENS, {}, QWEN3_EXTRA, False),
    ("mistral-v0.2-instruct", MISTRAL_TOKENS, {}, {}, True),
    ("mistral-v0.3-instruct", MISTRAL_TOKENS, {}, MISTRAL3_EXTRA, True),
    ("llama-2-chat", MISTRAL_TOKENS, {}, {}, True),
    ("smollm2-instruct", {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"}, {}, {}, False),
    ("tinyllama-chat", {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"}, {}, {}, False),
    ("gemma-2-it", {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"}, {}, {}, True),
    ("phi-3.5-mini-instruct", {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>", "pad_token": "<|endoftext|>"}, {}, {}, False),
    ("deepseek-r1-distill-qwen", {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}, {}, DEEPSEEK_EXTRA, False),
]

# Templates that refuse some of the plain conversations on purpose (Gemma 2 has no system role).
REFUSES_SOME = {"gemma-2-it"}



def render(template, tokens, messages, add_generation_prompt, kwargs):
    kwargs = dict(kwargs)
    context = {**tokens, **kwargs}
    context["messages"] = messages
    context["tools"] = kwargs.get("tools")
    context["documents"] = None
    context["add_generation_prompt"] = add_generation_prompt
    try:
        return {"expected": template.render(**context)}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def main():
    env = make_env()
    for name, tokens, common, extra, strict in TEMPLATES:
        with open(os.path.join(HERE, name + ".jinja"), encoding="utf-8") as f:
            template = env.from_string(f.read())
        cases = []
        conversations = [(k, v, {}) for k, v in PLAIN.items()]
        conversations += [(k, v[0], v[1]) for k, v in extra.items()]
        if strict:
            conversations += [("error_" + k, v, {}) for k, v in ERRORS.items()]
        for case_name, messages, kwargs in conversations:
            for agp in (True, False):
                kw = {**common, **kwargs}
                result = render(template, tokens, messages, agp, kw)
                if not case_name.startswith("error_") and "error" in result and name not in REFUSES_SOME:
                    raise SystemExit(f"{name}/{case_name}: unexpected error {result['error']}")
                if case_name.startswith("error_") and "error" not in result:
                    raise SystemExit(f"{name}/{case_name}: expected an error")
                cases.append({"name": f"{case_name}/agp={str(agp).lower()}", "messages": messages,
                              "add_generation_prompt": agp, "kwargs": kw, **result})
        out = {"template": name + ".jinja", "special_tokens": tokens, "cases": cases}
        with open(os.path.join(HERE, name + ".expected.json"), "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
