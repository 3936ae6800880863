"""What a turn carries besides the words: how a spoken turn differs, think-longer settings,
the note a model reads after a tool result, and the passages an answer cites."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant_app.core.engines import ChatModel
from assistant_app.core.messages import ChatMessage
from assistant_app.security.untrusted import Ask


@dataclass(frozen=True)
class ThinkSettings:
    """'Think longer': on for every message, or when a message starts "think carefully about"."""

    always: bool = False
    samples: int = 5
    budget_s: float = 120.0
    progress: Callable[[int, int, str], None] | None = None


@dataclass(frozen=True)
class SpokenTurn:
    """How a spoken turn differs from a typed one; the voice loop makes one per turn. Tools,
    notes, memory, think-longer and the defences are the same."""

    style: str  # added to the instructions: a reply written for the ear
    ask: Ask  # permission questions are asked aloud (and in the window)
    # A tool's name just before it runs, "calculate" as a plain calculation starts, "think"
    # as thinking longer starts: a short progress line is spoken.
    on_step: Callable[[str], None]
    # The history write is handed over, (the turn's messages, the reply as written): the voice
    # loop records only what the user heard of the reply, once it has been played.
    keep: Callable[[list[ChatMessage], str], None]
    model: ChatModel | None = None  # a model for spoken turns; None: the session's


def cited(passages: list[tuple[str, str]], answer: str) -> list[str]:
    """The passages an answer drew on: those sharing a number or two rarer words with it."""
    said = set(re.findall(r"[a-z0-9][a-z0-9:.'-]{3,}|\d+", answer.lower()))
    sources = []
    for where, text in passages:
        shared = said & set(re.findall(r"[a-z0-9][a-z0-9:.'-]{3,}|\d+", text.lower()))
        if any(any(c.isdigit() for c in w) for w in shared) or len(shared) >= 2:
            sources.append(where)
    return sources


def last_result(turn: list[ChatMessage]) -> str:
    """The newest tool result of the turn, as the answer when the model cannot give one."""
    found = [m.content for m in turn if m.role == "tool"]
    return found[-1].strip() if found else "(no answer)"


RESULT_NOTE = (
    "(This is the result. Now answer the user with it in words; do not call the same tool again.)"
)
ERROR_NOTE = (
    "(The tool failed. If a tool can still help, call it again with a fix; otherwise answer "
    "the user yourself, in words.)"
)


def after_result(message: ChatMessage) -> ChatMessage:
    """The newest tool result as the model reads it, with what to do next (not saved): without
    it the small models call the same tool again instead of answering."""
    failed = any(line.startswith("Error:") for line in message.content.splitlines())
    note = ERROR_NOTE if failed else RESULT_NOTE
    return ChatMessage(message.role, f"{message.content}\n{note}", message.name)
