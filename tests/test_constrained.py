"""Tool calls written under a grammar: schema, detection, reading, and a real model's call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import LlmConfig
from assistant_app.core.messages import ChatMessage
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import ToolBox, tool
from models.constrained import (
    CallGrammars,
    call_schema,
    closed,
    looping,
    opens_a_call,
    read_call,
)


@tool
def set_timer(minutes: int, label: str = "") -> str:
    """Start a countdown timer.

    minutes: how long, in whole minutes
    label: what the timer is for
    """
    return f"timer set: {minutes} min"


def test_the_call_schema_names_each_tool_with_its_own_arguments(tmp_path: Path) -> None:
    specs = ToolBox([*default_tools(tmp_path), set_timer]).specs()
    schema = call_schema(specs)
    names = [a["properties"]["name"]["const"] for a in schema["anyOf"]]
    assert names == ["calculator", "python", "set_timer"]
    timer = schema["anyOf"][2]["properties"]["arguments"]
    assert timer["properties"]["minutes"]["type"] == "integer"
    assert timer["required"] == ["minutes"]
    pytest.importorskip("llama_cpp")
    grammars = CallGrammars()
    assert grammars.for_tools(specs) is grammars.for_tools(specs)  # compiled once per tool set


def test_a_reply_commits_to_a_call_only_once_it_opens_one() -> None:
    assert opens_a_call("<tool_call>") and opens_a_call("```json\n") and opens_a_call(" {")
    assert not opens_a_call("<tool") and not opens_a_call("Paris") and not opens_a_call("<tools>")


def test_constrained_output_is_read_even_with_raw_newlines_in_strings() -> None:
    call = read_call('{"name": "python", "arguments": {"code": "x = 1\nprint(x)"}}')
    assert call is not None and call.arguments == {"code": "x = 1\nprint(x)"}
    assert read_call('{"name": "python", "arguments": {"code": "import num') is None


@pytest.mark.models
def test_a_real_model_calls_with_arguments_of_the_schema_types(real_store) -> None:  # noqa: ANN001
    from models.llm import create_chat_model

    model = create_chat_model(
        LlmConfig(model="qwen2.5-coder-0.5b-instruct", temperature=0.0), real_store
    )
    messages = [
        ChatMessage("system", "Use the tools when a request needs one."),
        ChatMessage("user", "Set a timer for ten minutes for the pasta."),
    ]
    deltas = list(model.stream_reply(messages, [set_timer.spec()], CancelToken.never()))
    calls = [d.tool_call for d in deltas if d.tool_call is not None]
    assert [c.name for c in calls] == ["set_timer"]
    assert calls[0].arguments["minutes"] == 10  # an integer, as the schema says
    assert not "".join(d.text for d in deltas).strip()  # the call is not shown as text


@pytest.mark.models
@pytest.mark.parametrize("tool_calls", ["free", "grammar"])
def test_a_real_model_calls_the_tool_it_is_told_to(real_store, tool_calls: str) -> None:  # noqa: ANN001
    from models.llm import create_chat_model

    model = create_chat_model(
        LlmConfig(model="qwen2.5-coder-0.5b-instruct", temperature=0.0, tool_calls=tool_calls),
        real_store,
    )
    messages = [ChatMessage("user", "Set a timer for ten minutes, then tell me what 3*4 is.")]
    specs = [*ToolBox(default_tools()).specs(), set_timer.spec()]
    deltas = list(model.stream_reply(messages, specs, CancelToken.never(), tool_choice="set_timer"))
    calls = [d.tool_call for d in deltas if d.tool_call is not None]
    assert [c.name for c in calls] == ["set_timer"] and calls[0].arguments["minutes"] == 10


def test_a_freely_written_call_is_kept_only_when_it_fits_a_schema() -> None:
    from assistant_app.tools.builtin import calculator
    from models.constrained import fitting_call

    tools = [calculator.spec()]
    good = fitting_call('{"name": "calculator", "arguments": {"expression": "53*31"}}', tools)
    assert good is not None and good.arguments == {"expression": "53*31"}
    for text in (
        '{"name": "say_hello", "arguments": {}}',  # an invented tool
        '{"name": "calculator", "arguments": {}}',  # its argument missing
        '{"name": "calculator", "arguments": {"expression": "1", "x": 2}}',  # an unknown one
        '{"name": "calculator", "arguments": {"expression": 42}}',  # the wrong type
        '{"name": "calculator", "arguments": {"expression": "1+',  # cut off
        "The answer is 5.",
    ):
        assert fitting_call(text, tools) is None, text


def test_an_unknown_tool_call_style_is_a_config_error(tmp_path: Path) -> None:
    from assistant_app.core.errors import ConfigError
    from models.llm import create_chat_model
    from models.store import ModelStore

    with pytest.raises(ConfigError, match="tool_calls must be free or grammar"):
        create_chat_model(LlmConfig(tool_calls="strict"), ModelStore(tmp_path))


def test_a_free_call_ends_where_its_object_closes() -> None:
    from models.constrained import object_end

    call = '{"name": "calculator", "arguments": {"expression": "convert(2, \\"km\\", \\"m\\")"}}'
    assert object_end(call + '\n{"name": "calculator"') == len(call)
    assert object_end('{"a": "} { ] \\\\"}') == len('{"a": "} { ] \\\\"}')  # braces in strings
    assert object_end('{"name": "calculator", "arguments": {"expression": "1+') is None


class EndlessCalls:
    """A llama.cpp stand-in whose model writes one call after another and never ends them
    (as the 1.5B model did after a unit conversion in the history: 34 s to its token limit)."""

    def __init__(self) -> None:
        self.pieces = 0

    def tokenize(self, text: bytes, **_: object) -> list[int]:
        return list(text)

    def create_completion(self, tokens: list[int], **settings: object):  # noqa: ANN201
        assert "grammar" not in settings  # the free writing is used as it is
        while self.pieces < settings["max_tokens"]:
            for piece in ('convert(200, \\"km\\", ', '\\"mi\\")"}', "}\n", '{"name": "calc'):
                self.pieces += 1
                yield {"choices": [{"text": piece}]}


def test_a_model_writing_calls_without_end_is_stopped_after_the_first() -> None:
    from assistant_app.tools.builtin import calculator
    from models.llm import LlamaChatModel

    model = object.__new__(LlamaChatModel)  # the engine's logic around a stand-in model
    model._llm, model._free_calls, model.context_tokens = EndlessCalls(), True, 4096
    spec = calculator.spec()
    settings = {"max_tokens": 200, "temperature": 0.2, "stop": []}
    deltas = list(model._constrained_call([1, 2], [spec], settings, CancelToken.never(), True))
    assert [d.tool_call.arguments for d in deltas] == [{"expression": 'convert(200, "km", "mi")'}]
    assert model._llm.pieces == 3  # read up to the call's closing brace, not on


def test_code_going_round_in_a_loop_is_seen_after_two_rounds() -> None:
    imports = [f"from sklearn.metrics import {n}" for n in ("auc", "f1_score", "roc_curve")]
    head = "import pandas as pd\\nimport numpy as np\\n"
    once = head + "\\n".join(imports) + "\\n"
    assert not looping(once)
    assert looping(once + "\\n".join(imports) + "\\n")
    assert not looping(once + "\\n".join(imports))  # the last line may not be done yet
    # Short repeated lines are code, not a loop: "plt.show()" twice, closing brackets.
    assert not looping("a = 1\\n)\\n]\\n}\\n)\\n]\\n}\\n")
    assert not looping("x = [\\n  1,\\n  2,\\n  3,\\n]\\ny = [\\n  1,\\n  2,\\n  3,\\n]\\n")


def test_a_call_whose_code_was_ended_with_braces_alone_is_closed() -> None:
    head = '{"name": "python", "arguments": {"code": "'
    wrote = head + "rows = 3\\nprint(f'{rows} rows.')}"
    assert json.loads(closed(wrote)) == {
        "name": "python", "arguments": {"code": "rows = 3\nprint(f'{rows} rows.')"}
    }  # fmt: skip
    for whole in ('{"a": 1}', '{"a": "x}"}', head + "print(1)"):
        assert closed(whole) == whole  # closed, or not ended with a brace: as written
