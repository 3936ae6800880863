"""Tools from typed functions, the calculator, tool-call parsing, and the multi-step turn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant_app.core.errors import ToolError
from assistant_app.core.messages import ReplyDelta, ToolCall
from assistant_app.kernel.chat import RESULT_NOTE, ChatSession
from assistant_app.tools.builtin import calculator, default_tools
from assistant_app.tools.calculator import calculate
from assistant_app.tools.toolbox import ToolBox, tool
from models.tool_calls import may_be_tool_call, parse_tool_calls


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1234*5678", 7006652),
        ("2^40", 2**40),
        ("7/2*2", 7),
        ("10/4", 2.5),
        ("factorial(20)", 2432902008176640000),
        ("-(3-5)**2", -4),
        ("sqrt(16)+1", 5.0),
    ],
)
def test_calculator_is_exact_for_integers(expression: str, value: float) -> None:
    result = calculate(expression)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "9**9**9",
        "1/0",
        "x + 1",
        "",
        "factorial(100000)",
        "[1, 2]",
    ],
)
def test_calculator_refuses_what_is_not_safe_arithmetic(expression: str) -> None:
    with pytest.raises(ToolError):
        calculate(expression)


def test_a_tool_is_built_from_its_signature_and_docstring() -> None:
    @tool(permission="ask")
    def plot(formula: str, start: float, end: float = 10.0, log_axis: bool = False) -> str:
        """Plot a formula.

        formula: in x, e.g. sin(x)
        start: first x
        """
        return formula

    spec = plot.spec()["function"]
    assert spec["name"] == "plot" and spec["description"] == "Plot a formula."
    props = spec["parameters"]["properties"]
    assert {k: v["type"] for k, v in props.items()} == {
        "formula": "string",
        "start": "number",
        "end": "number",
        "log_axis": "boolean",
    }
    assert props["formula"]["description"] == "in x, e.g. sin(x)"
    assert spec["parameters"]["required"] == ["formula", "start"]
    assert plot.permission == "ask"


def test_tool_errors_become_results_for_the_model() -> None:
    box = ToolBox([calculator])
    assert box.run(ToolCall("calculator", {"expression": "6*7"})) == "6*7 = 42"
    assert box.run(ToolCall("calculator", {"expression": "1/0"})) == "Error: Division by zero."
    assert "no tool named 'say_hello'" in box.run(ToolCall("say_hello", {}))
    assert "missing: expression" in box.run(ToolCall("calculator", {}))
    assert "unknown: x" in box.run(ToolCall("calculator", {"expression": "1", "x": 2}))


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n</tool_call>',
        '```json\n{\n  "name": "calculator",\n  "arguments": {"expression": "1+1"}\n}\n```',
        '{"name": "calculator", "arguments": {"expression": "1+1"}}',
        '{{"name": "calculator", "arguments": {"expression": "1+1"}}}',
        '{"name": "calculator", "arguments": "{\\"expression\\": \\"1+1\\"}"}',
        '{"name": "calculator", "arguments": {"expression": "1+1"}',
        '<{{"name": "calculator", "arguments": {"expression": "1+1"}}}}',  # a brace too many
    ],
)
def test_tool_calls_are_found_in_the_shapes_small_models_write(text: str) -> None:
    assert parse_tool_calls(text) == [ToolCall("calculator", {"expression": "1+1"}, "call_0")]


def test_triple_quoted_code_inside_a_call_is_read() -> None:
    code = 'print("a")\nprint(2)'
    text = '```json\n{"name": "python", "arguments": {"code": """' + code + '"""}}\n```'
    assert parse_tool_calls(text)[0].arguments == {"code": code}


def test_plain_answers_are_not_tool_calls() -> None:
    assert parse_tool_calls("The capital of France is Paris.") == []
    assert may_be_tool_call("```js") and not may_be_tool_call("The")
    assert may_be_tool_call("  {") and not may_be_tool_call("Paris {")
    assert may_be_tool_call("<") and may_be_tool_call("<{{") and not may_be_tool_call("<b>")


class ScriptedToolModel:
    """Replies from a script: each step is a list of deltas; records the tools it was offered."""

    name = "scripted"
    context_tokens = 4096

    def __init__(self, steps: list[list[ReplyDelta]]) -> None:
        self.steps = steps
        self.offered: list[list[str]] = []  # the tools it may call, per step
        self.listed: list[list[str]] = []  # the tools the prompt lists, per step
        self.choices: list[str] = []  # the tool_choice of each step
        self.seen: list[list] = []
        self.warmed = 0  # one-token requests: a warm-up, answered with nothing

    def stream_reply(
        self,
        messages,  # noqa: ANN001
        tools,  # noqa: ANN001
        cancel,  # noqa: ANN001
        *,
        max_tokens=None,  # noqa: ANN001
        temperature=None,  # noqa: ANN001
        tool_choice="auto",  # noqa: ANN001
    ) -> Iterator[ReplyDelta]:
        if max_tokens == 1:
            self.warmed += 1
            return
        self.listed.append([t["function"]["name"] for t in tools])
        self.offered.append(self.listed[-1] if tool_choice != "none" else [])
        self.choices.append(tool_choice)
        self.seen.append(list(messages))
        yield from self.steps.pop(0)


def call(expression: str) -> ReplyDelta:
    return ReplyDelta(tool_call=ToolCall("calculator", {"expression": expression}))


def test_a_turn_calls_a_tool_then_answers_from_its_result() -> None:
    model = ScriptedToolModel([[call("1234*5678")], [ReplyDelta(text="It is 7006652.")]])
    used = []
    session = ChatSession(model, "s", ToolBox(default_tools()), on_tool=lambda c, r: used.append(r))
    asked = "How many nails are in 1234 boxes of 5678?"  # no sum the kernel reads itself
    assert "".join(session.stream(asked)) == "It is 7006652."
    assert used == ["1234*5678 = 7006652"]
    roles = [m.role for m in session.history]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert model.seen[1][-1].prompt == f"1234*5678 = 7006652\n{RESULT_NOTE}"  # then: answer
    assert session.history[2].content == "1234*5678 = 7006652"  # the note is not saved


def test_a_repeated_call_takes_the_tools_away() -> None:
    model = ScriptedToolModel([[call("2^10")], [call("2^10")], [ReplyDelta(text="1024.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("2 to the 10th?")) == "1024."
    assert model.offered == [["calculator"], ["calculator"], []]
    assert model.listed[-1] == ["calculator"]  # still listed: the prompt starts the same


def test_an_ask_tool_the_user_denies_does_not_run() -> None:
    ran = []

    @tool(permission="ask")
    def delete_file(path: str) -> str:
        """Delete a file."""
        ran.append(path)
        return "deleted"

    model = ScriptedToolModel(
        [
            [ReplyDelta(tool_call=ToolCall("delete_file", {"path": "/tmp/x"}))],
            [ReplyDelta(text="I could not delete it.")],
        ]
    )
    asked = []
    session = ChatSession(
        model, "s", ToolBox([delete_file]), ask=lambda t, c: asked.append(c.arguments) or False
    )
    assert "".join(session.stream("delete /tmp/x")) == "I could not delete it."
    assert ran == [] and asked == [{"path": "/tmp/x"}]
    assert "did not allow" in session.history[2].content


def test_the_step_limit_ends_a_tool_loop_with_a_message() -> None:
    model = ScriptedToolModel([[call(f"{n}+1")] for n in range(3)])
    session = ChatSession(model, "s", ToolBox(default_tools()), max_steps=3)
    reply = "".join(session.stream("count"))
    assert reply == "(I could not finish this in 3 steps. The last result was:\n2+1 = 3)"


def test_a_tool_that_keeps_failing_ends_with_its_error_in_a_sentence() -> None:
    model = ScriptedToolModel([[call(f"{n}/0")] for n in range(2)])
    session = ChatSession(model, "s", ToolBox(default_tools()), max_steps=2)
    reply = "".join(session.stream("divide 1 by 0 twice"))
    assert reply.startswith("(I could not finish this: the calculator tool failed: Division by")


def test_the_python_tool_runs_sandboxed_and_attaches_figures(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.tools.builtin import python_tool

    box = ToolBox([python_tool(tmp_path)])
    code = (
        "import numpy as np, matplotlib.pyplot as plt\nx = np.linspace(0, 10, 50)\n"
        "plt.plot(x, np.sin(x))\nprint(round(float(np.sin(1.0)), 3))"
    )
    result = box.run(ToolCall("python", {"code": code}))
    assert "0.841" in result
    image = result.split("attached image: ")[1].splitlines()[0]
    assert image.startswith(str(tmp_path)) and open(image, "rb").read(4) == b"\x89PNG"
    blocked = box.run(ToolCall("python", {"code": "print(open('/etc/shadow').read())"}))
    assert "Error: blocked" in blocked
    assert box.get("python").permission == "ask"


def test_code_that_opens_a_cited_note_is_told_to_put_the_numbers_in(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.tools.builtin import NO_FILES, python_tool

    box = ToolBox([python_tool(tmp_path)])
    missing = box.run(ToolCall("python", {"code": "print(open('notes/budget.md').read())"}))
    assert "FileNotFoundError" in missing and NO_FILES in missing
    other = box.run(ToolCall("python", {"code": "print(1 / 0)"}))
    assert "ZeroDivisionError" in other and NO_FILES not in other


def test_a_code_block_answer_runs_as_the_python_tool_when_allowed(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.tools.builtin import python_tool

    block = "Here:\n```python\nprint(6 * 7)\n```\nThat prints it."
    asked = []
    for allowed in (False, True):
        # Refused, the model answers once more, in words (no tools offered).
        steps = [[ReplyDelta(text=block)], [ReplyDelta(text="It is 6 x 7, forty-two.")]]
        model = ScriptedToolModel(steps)
        session = ChatSession(
            model,
            "s",
            ToolBox([python_tool(tmp_path)]),
            ask=lambda t, c, ok=allowed: asked.append(c) or ok,
        )
        reply = "".join(session.stream("What is 6 times 7? Use Python."))
        assert reply.startswith(block)
        assert ("42" in reply) is allowed and ("did not allow" in reply) is not allowed
        assert reply.endswith("forty-two.") is not allowed
        assert model.offered[1:] == ([] if allowed else [[]])
        assert [m.role for m in session.history] == ["user", "assistant", "tool", "assistant"]
    assert [c.arguments["code"] for c in asked] == ["print(6 * 7)\n"] * 2


def test_written_code_that_fails_gets_another_step(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.tools.builtin import python_tool

    model = ScriptedToolModel(
        [
            [ReplyDelta(text="Try:\n```python\nprint(1 / 0)\n```")],
            [ReplyDelta(text="Fixed:\n```python\nprint(6 * 7)\n```")],
        ]
    )
    session = ChatSession(model, "s", ToolBox([python_tool(tmp_path)]), ask=lambda t, c: True)
    reply = "".join(session.stream("What is 6 times 7? Use Python."))
    assert "ZeroDivisionError" in reply and "42" in reply
    results = [m.content for m in session.history if m.role == "tool"]
    assert len(results) == 2 and "ZeroDivisionError" in model.seen[1][-1].content


def test_a_call_written_as_text_after_the_tools_are_gone_is_not_shown() -> None:
    model = ScriptedToolModel(
        [
            [call("1234*5678")],
            [call("1234*5678")],  # the same call again: the tools are taken away
            [ReplyDelta(text='{"name": "calculator", "arguments": {"expression": "7006652"}}')],
        ]
    )
    session = ChatSession(model, "s", ToolBox([calculator]))
    reply = "".join(session.stream("What is 1234 times 5678?"))
    assert reply == "1234*5678 = 7006652" and model.offered[-1] == []


def test_a_failed_call_is_read_with_a_second_chance() -> None:
    from assistant_app.kernel.chat import ERROR_NOTE

    model = ScriptedToolModel([[call("1/0")], [call("1/0.5")], [ReplyDelta(text="It is 2.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("What is 1 divided by 0.5?")) == "It is 2."
    failed = model.seen[1][-1].prompt
    assert failed.startswith("Error:") and failed.endswith(ERROR_NOTE)
    assert model.offered[1] == ["calculator"]  # it may call again, with a fix


@pytest.mark.parametrize(
    ("expression", "value"),
    [("25% of 120", 30), ("25 percent of 360", 90), ("20%", 0.2), ("12.5% of 80", 10),
     ("10 % 3", 1), ("3 x 4", 12), ("7 × 6", 42)],
)  # fmt: skip
def test_the_calculator_reads_percentages_as_people_write_them(
    expression: str, value: float
) -> None:
    from assistant_app.tools.calculator import calculate

    assert calculate(expression) == value


@pytest.mark.parametrize(
    ("expression", "value"),
    [("(46 + 85) x 9", 1179), ("mean(62, 10, 27)", 33), ("median([1, 5, 2, 8])", 3.5),
     ("stdev(2, 4, 4, 4, 5, 5, 7, 9)", 2.138), ("pstdev(2, 4, 4, 4, 5, 5, 7, 9)", 2),
     ("range(19.6, 2.8, 7)", 16.8), ("sum(1.5, 2.25)", 3.75), ("average(1, 2) * 2", 3),
     ('convert(212, "F", "C")', 100), ('convert(30, "celsius", "fahrenheit")', 86),
     ('convert(5, "mi", "km")', 8.04672), ("convert(6, feet, m)", 1.8288),
     ('convert(100, "km/h", "mph")', 62.137), ('convert(10, "litres", "gallons")', 2.6417),
     ('convert(0, "K", "C")', -273.15), ('convert(20, "kg", "pounds")', 44.092)],
)  # fmt: skip
def test_the_calculator_does_statistics_and_unit_conversions(expression: str, value: float) -> None:
    from assistant_app.tools.calculator import calculate

    assert calculate(expression) == pytest.approx(value, rel=1e-3)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [('convert(1, "kg", "km")', "cannot convert mass"), ('convert(1, "parsec", "m")',
     "unknown unit 'parsec'"), ("stdev(3)", "needs more values"), ("mean()", "needs more")],
)  # fmt: skip
def test_the_calculator_says_what_is_wrong_with_a_conversion(expression: str, problem: str) -> None:
    from assistant_app.core.errors import ToolError
    from assistant_app.tools.calculator import calculate

    with pytest.raises(ToolError, match=problem):
        calculate(expression)


def test_a_table_the_python_tool_makes_is_shown_to_the_model(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.core.cancel import CancelToken
    from assistant_app.tools.builtin import python_tool

    code = "open('out.csv', 'w').write('round,valuation\\nA,82.56\\nB,330.25\\n')"
    result = python_tool(tmp_path).function(code=code, cancel=CancelToken.never())
    assert "out.csv:\nround,valuation\nA,82.56\nB,330.25" in result
