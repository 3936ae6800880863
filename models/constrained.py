"""Tool-call arguments written under a grammar made from the tools' JSON schemas."""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from assistant_app.core.messages import ToolCall
from models.tool_calls import parse_tool_calls

log = logging.getLogger(__name__)
# Once a reply starts like this the model has chosen to call a tool: the call itself is then
# written again under the grammar. (`<tools>` is Qwen reciting its prompt, not a call.)
CALL_OPENINGS = ("<tool_call>", "```json", "```\n{", "{", "<{")
CALL_PREFIX = "<tool_call>\n"
CALL_END = "</tool_call>"
_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def call_schema(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The JSON schema of one call to any of `tools` (OpenAI-style specs): the name is one of
    theirs and the arguments match that tool's parameters."""
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "name": {"const": spec["function"]["name"]},
                    "arguments": spec["function"]["parameters"],
                },
                "required": ["name", "arguments"],
            }
            for spec in tools
        ]
    }


def opens_a_call(text: str) -> bool:
    """Whether a reply beginning with `text` has committed to a tool call."""
    return text.lstrip().startswith(CALL_OPENINGS)


class CallGrammars:
    """llama.cpp grammars for tool sets, compiled once per set."""

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}

    def for_tools(self, tools: Sequence[dict[str, Any]]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(call_schema(tools), sort_keys=True)
        if key not in self._compiled:
            self._compiled[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._compiled[key]


def read_call(text: str) -> ToolCall | None:
    """The call in grammar-constrained output; None when it was cut off by the token limit."""
    try:
        data = json.loads(text, strict=False)  # the grammar lets raw newlines into strings
    except json.JSONDecodeError:
        found = parse_tool_calls(text)
        if not found:
            log.warning("constrained tool call did not finish: %.200s", text)
        return found[0] if found else None
    return ToolCall(data["name"], data["arguments"], call_id="call_0")


def fitting_call(text: str, tools: Sequence[dict[str, Any]]) -> ToolCall | None:
    """The call in freely written text when it names one of `tools` with the arguments its
    schema asks for (required ones present, none unknown, simple types right); else None."""
    try:
        data = json.loads(text.strip(), strict=False)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("arguments"), dict):
        return None
    specs = {spec["function"]["name"]: spec["function"]["parameters"] for spec in tools}
    schema, arguments = specs.get(data.get("name")), data["arguments"]
    if schema is None:
        return None
    properties = schema.get("properties", {})
    if set(arguments) - set(properties) or set(schema.get("required", [])) - set(arguments):
        return None
    for key, value in arguments.items():
        want = _JSON_TYPES.get(properties[key].get("type", ""), object)
        if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
            return None
    return ToolCall(data["name"], arguments, call_id="call_0")


def object_end(text: str) -> int | None:
    """Where the JSON object `text` starts with ends (its braces balanced outside strings),
    or None while it is still open: a call written freely is done there, whatever the model
    would write after it."""
    for at, depth, in_string in _json_states(text):
        if depth <= 0 and not in_string and text[at] in "}]":
            return at + 1
    return None


def _json_states(text: str) -> Iterator[tuple[int, int, bool]]:
    """After each character of JSON text: where, how many objects and lists are open, and
    whether a string is."""
    depth, in_string, escaped = 0, False, False
    for at, char in enumerate(text):
        if in_string:
            in_string = not (char == '"' and not escaped)
            escaped = char == "\\" and not escaped
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        yield at, depth, in_string


def looping(text: str, shortest: int = 3) -> bool:
    """Whether code written into a call's arguments has fallen into a loop: its last lines
    (as the JSON string writes them, split at "\\n") are the `shortest` or more lines just
    before them again. A 1.5B model wrote sklearn imports round and round until its 1,024
    tokens ran out, twice (free, then under the grammar): 3.5 minutes for nothing."""
    lines = text.split("\\n")[:-1]  # the line being written may not be done
    for size in range(shortest, len(lines) // 2 + 1):
        block = lines[-size:]
        if block == lines[-2 * size : -size] and sum(len(ln.strip()) for ln in block) >= 30:
            return True
    return False


def closed(text: str) -> str:
    """A call whose last string was ended with braces alone (`…print(x)}` for `…print(x)"}}`,
    as the model wrote it with repeats held back) with its quote and braces put right; any
    other text as it is."""
    _, depth, in_string = deque(_json_states(text), maxlen=1)[0] if text else (0, 0, False)
    body = text.rstrip()
    if not in_string or not body.endswith("}") or depth <= 0:
        return text
    strip = min(depth, len(body) - len(body.rstrip("}")))
    return body[: len(body) - strip] + '"' + "}" * depth
