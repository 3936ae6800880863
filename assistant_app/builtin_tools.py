"""The tools every assistant starts with."""

from __future__ import annotations

from pathlib import Path

from assistant_app.calculator import calculate
from assistant_app.tables import TableFiles
from assistant_app.tools import Tool, tool


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly. Use it for any arithmetic.

    expression: one expression, e.g. 1234*5678, 2^40, sqrt(2)/3, factorial(12)
    """
    return f"{expression} = {calculate(expression)}"


def python_tool(keep_dir: Path, tables: TableFiles | None = None) -> Tool:
    """Runs model-written Python in the sandbox; asks the user first by default. The tables
    pasted into the conversation are in its folder."""

    @tool(permission="ask")
    def python(code: str) -> str:
        """Run Python code (numpy, pandas and matplotlib available) and get its output. It
        starts in an empty folder with no files: put the data from the conversation in the
        code. Figures and files it creates are attached to the reply. Print the results.

        code: a complete Python program
        """
        from assistant_app.sandbox import run_python

        result = run_python(code, keep_dir=keep_dir, inputs=tables.files if tables else None)
        if tables is not None:
            tables.files.update(result.texts)  # the next run starts from what this one left
        lines = [f"stdout:\n{result.stdout}" if result.stdout else "(no output)"]
        if not result.ok:
            lines.append(f"Error: {result.error or 'the code failed'}\n{result.stderr}".strip())
        lines += [f"attached image: {p}" for p in result.images]
        lines += [f"attached file: {p}" for p in result.files if p not in result.images]
        return "\n".join(lines)

    return python


def default_tools(keep_dir: Path | None = None, tables: TableFiles | None = None) -> list[Tool]:
    """Every built-in tool; the Python tool needs a folder for what the code creates."""
    return [calculator] + ([python_tool(keep_dir, tables)] if keep_dir is not None else [])
