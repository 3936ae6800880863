"""Tools are typed functions: name, description and JSON schema come from the signature."""

from __future__ import annotations

import inspect
import logging
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ToolError
from assistant_app.core.messages import ToolCall

log = logging.getLogger(__name__)
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
PERMISSIONS = ("allow", "ask", "deny")


@dataclass(frozen=True)
class Tool:
    """A function the model may call, with its schema and default permission."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    permission: str = "allow"  # allow | ask | deny: what happens before it runs
    untrusted_output: bool = False  # its result carries outside text (files, pages, OCR)
    # It acts beyond the conversation (runs code, writes files, reaches outside the app): after
    # outside text entered the turn, a call to it is asked about even when set to "allow".
    sensitive: bool = False
    cancellable: bool = False  # takes the turn's CancelToken as `cancel` (Stop, barge-in)
    # Its output is the user's own files (the knowledge folders): outside text still, fenced,
    # but it does not make allowed tools ask unless the detector flags something in it.
    user_files: bool = False

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style description the chat template renders for the model."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def with_permission(self, permission: str) -> Tool:
        """The same tool under another permission (a profile's rule, or `--allow`)."""
        return replace(self, permission=permission)


def tool(
    function: Callable[..., Any] | None = None,
    *,
    permission: str = "allow",
    untrusted_output: bool = False,
    sensitive: bool = False,
    user_files: bool = False,
) -> Any:
    """Decorator: `@tool` or `@tool(permission="ask")` turns a typed function into a Tool.
    A parameter typed CancelToken is not shown to the model: the toolbox passes the turn's."""

    def build(fn: Callable[..., Any]) -> Tool:
        doc = inspect.getdoc(fn) or ""
        summary, _, rest = doc.partition("\n\n")
        arg_docs = dict(re.findall(r"^\s*(\w+):\s*(.+)$", rest, re.MULTILINE))
        hints = typing.get_type_hints(fn)
        properties, required, cancellable = {}, [], False
        for name, param in inspect.signature(fn).parameters.items():
            if hints.get(name) is CancelToken:
                cancellable = True
                continue
            kind = _JSON_TYPES.get(hints.get(name, str), "string")
            properties[name] = {"type": kind, "description": arg_docs.get(name, name)}
            if param.default is inspect.Parameter.empty:
                required.append(name)
        schema = {"type": "object", "properties": properties, "required": required}
        description = " ".join(summary.split())
        return Tool(
            fn.__name__, description, schema, fn, permission, untrusted_output, sensitive,
            cancellable, user_files,
        )  # fmt: skip

    return build(function) if function is not None else build


class ToolBox:
    """The tools one assistant may use; runs calls and turns every failure into a result."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self.tools.values() if t.permission != "deny"]

    def offered(self) -> set[str]:
        """The names of the tools the model is shown (all but those denied)."""
        return {t.name for t in self.tools.values() if t.permission != "deny"}

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)

    def run(self, call: ToolCall, cancel: CancelToken | None = None) -> str:
        """The tool's result as text; errors go back to the model as text too, never raised.
        `cancel` (the turn's token) reaches tools that can stop part way."""
        found = self.tools.get(call.name)
        if found is None or found.permission == "deny":
            known = ", ".join(n for n, t in self.tools.items() if t.permission != "deny")
            return f"Error: there is no tool named '{call.name}'. Tools: {known or 'none'}."
        try:
            _check_arguments(found, call.arguments)
            if found.cancellable:
                return str(found.function(**call.arguments, cancel=cancel or CancelToken.never()))
            return str(found.function(**call.arguments))
        except ToolError as exc:
            return f"Error: {exc}"
        except Exception as exc:  # a tool bug must not end the conversation
            log.exception("tool %s failed", call.name)
            return f"Error: the {call.name} tool failed ({type(exc).__name__}: {exc})."


def _check_arguments(found: Tool, arguments: dict[str, Any]) -> None:
    props = found.parameters["properties"]
    unknown = set(arguments) - set(props)
    missing = [n for n in found.parameters["required"] if n not in arguments]
    if unknown or missing:
        raise ToolError(
            f"{found.name} takes {', '.join(props) or 'no arguments'}"
            + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + "."
        )
