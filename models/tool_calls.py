"""Finds tool calls in what a small model wrote: <tool_call> tags, ```json blocks, bare JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from assistant_app.core.messages import ToolCall

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)
# The opening a tool call starts with; a reply that starts this way is held back, not spoken.
# "<{{…}}}}" is the tag's "<" fused with the template's doubled braces (Qwen 1.5B, seen once).
PREFIXES = ("<tool_call>", "<tools>", "```json", "```\n{", "{", "<{")
# Qwen 1.5B sometimes recites the tool list from its prompt instead of answering.
RECITED = "<tools>"


def may_be_tool_call(text: str) -> bool:
    """Whether a reply beginning with `text` could still turn out to be a tool call."""
    head = text.lstrip()
    return any(p.startswith(head) or head.startswith(p) for p in PREFIXES) if head else True


def parse_tool_calls(text: str) -> list[ToolCall]:
    """The tool calls in `text`, whatever their name: the tool box tells the model when a
    name is invented (both Qwen models do that now and then)."""
    candidates = _TAGGED.findall(text) or _FENCED.findall(text) or [text.strip()]
    calls = []
    for n, raw in enumerate(candidates):
        data = _load(raw)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            continue
        arguments = data.get("arguments", data.get("parameters", {}))
        if isinstance(arguments, str):
            arguments = _load(arguments)
        if not isinstance(arguments, dict):
            arguments = {}
        calls.append(ToolCall(data["name"], arguments, call_id=f"call_{n}"))
    return calls


def _load(raw: str) -> Any:
    raw = raw.strip().removeprefix("<") if raw.strip().startswith("<{") else raw.strip()
    # Code arguments sometimes come as Python triple-quoted strings inside the JSON.
    raw = re.sub(r'"""(.*?)"""', lambda m: json.dumps(m.group(1)), raw, flags=re.DOTALL)
    if raw.startswith("{{") and raw.endswith("}}"):
        raw = raw[1:-1]  # Qwen 1.5B copies the template's doubled braces
    # Small models also drop the last brace now and then.
    for attempt in (raw, raw + "}", raw[:-1]):  # …or add one
        try:
            return json.loads(attempt, strict=False)
        except json.JSONDecodeError:
            continue
    return None


class HeldReply:
    """Holds back the start of a reply while it may still be a tool call, so a call written as
    text is never shown (or spoken); releases the text as soon as it cannot be one."""

    def __init__(self, tools_offered: bool) -> None:
        self.holding = tools_offered
        self.held = ""

    def push(self, text: str) -> str:
        """What of `text` may be shown now."""
        if not self.holding:
            return text
        self.held += text
        if may_be_tool_call(self.held):
            return ""
        self.holding = False
        return self.held

    def finish(self, cancelled: bool) -> tuple[list[ToolCall], str]:
        """At the end of the reply: the calls found in held text, and held text to show."""
        if not self.holding or cancelled:
            return [], ""
        calls = parse_tool_calls(self.held)
        recited = self.held.lstrip().startswith(RECITED)
        return calls, "" if calls or recited or not self.held.strip() else self.held
