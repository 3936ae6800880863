"""The tools every assistant starts with."""

from __future__ import annotations

from assistant_app.calculator import calculate
from assistant_app.tools import Tool, ToolBox, tool


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly. Use it for any arithmetic.

    expression: one expression, e.g. 1234*5678, 2^40, sqrt(2)/3, factorial(12)
    """
    return f"{expression} = {calculate(expression)}"


def default_tools() -> list[Tool]:
    return [calculator]


def default_toolbox(allow: tuple[str, ...] = ()) -> ToolBox:
    """The built-in tools; names in `allow` run without asking."""
    tools = [
        Tool(t.name, t.description, t.parameters, t.function, "allow", t.untrusted_output)
        if t.name in allow
        else t
        for t in default_tools()
    ]
    return ToolBox(tools)
