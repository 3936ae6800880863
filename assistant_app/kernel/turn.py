"""What a turn carries besides the words: how a spoken turn differs, think-longer settings,
the note a model reads after a tool result, and the passages an answer cites."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from assistant_app.core.engines import ChatModel
from assistant_app.core.messages import ChatMessage
from assistant_app.security.untrusted import Ask
from assistant_app.tools.toolbox import ToolBox


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
    # Read right after the user's words ("the recogniser was unsure…"): what comes before,
    # evaluated while the user spoke, stays as it was whether or not a turn has the note.
    note: str = ""

    def noted(self, words: ChatMessage) -> ChatMessage:
        """The user's message as the model reads it: followed by the note, if any."""
        return replace(words, sent=f"{words.prompt}\n\n({self.note})") if self.note else words


def cited(passages: list[tuple[str, str]], answer: str) -> list[str]:
    """The passages an answer drew on: those sharing a number or two rarer words with it."""
    said = _words(answer)
    sources = []
    for where, text in passages:
        shared = said & _words(text)
        if any(any(c.isdigit() for c in w) for w in shared) or len(shared) >= 2:
            sources.append(where)
    return sources


SHOWN_ROWS = 12  # a table a tool made with this many rows or fewer is shown under the answer
SHOWN_BYTES = 4096


def footnotes(
    passages: list[tuple[str, str]],
    toolbox: ToolBox,
    turn: list[ChatMessage],
    answer: str,
    tables: bool = True,
) -> list[str]:
    """What the user needs besides the words: the files the answer came from, the images and
    files tools made (their paths) and, when `tables`, each small table they made: the model
    is told to answer in a sentence, so "print the completed table" would otherwise leave
    the numbers in a file."""
    notes = []
    if sources := cited(passages, answer):
        notes.append(f"\n(Source: {', '.join(sources)})")
    trusted = {n for n, t in toolbox.tools.items() if not t.untrusted_output}
    made = [
        line.split(": ", 1)[1]
        for m in turn
        if m.role == "tool" and m.name in trusted  # outside text cannot name files
        for line in m.content.splitlines()
        if line.startswith("attached ")
    ]
    if made:
        notes.append(f"\n(attached: {', '.join(made)})")
    if tables:
        notes += [f"\n\n{shown}\n" for path in made if (shown := small_table(Path(path)))]
    return notes


def small_table(path: Path) -> str:
    """A CSV file of at most SHOWN_ROWS rows as a Markdown table; "" for anything else."""
    if path.suffix.lower() != ".csv":
        return ""
    try:
        if path.stat().st_size > SHOWN_BYTES:
            return ""
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return ""
    if not 2 <= len(rows) <= SHOWN_ROWS + 1 or len({len(r) for r in rows}) != 1:
        return ""
    cells = [[c.replace("|", "\\|").strip() for c in row] for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(cells[0]))
    return "\n".join(lines)


def _words(text: str) -> set[str]:
    """Words, codes and numbers ("rt-901", "08:15", "12"), without a sentence's end mark."""
    found = re.findall(r"[a-z0-9][a-z0-9:.'-]{3,}|\d+", text.lower())
    return {w.rstrip(".:'-") for w in found}


def last_result(turn: list[ChatMessage]) -> str:
    """The newest tool result of the turn, as the answer when the model cannot give one."""
    found = [m.content for m in turn if m.role == "tool"]
    return found[-1].strip() if found else "(no answer)"


REFUSED = "Error: the user did not allow this {} call."
RESULT_NOTE = (
    "(This is the result. Now answer the user with it in a sentence, numbers in digits; do not "
    "call the same tool again.)"
)
ERROR_NOTE = (
    "(The tool failed. If a tool can still help, call it again with a fix; otherwise answer "
    "the user yourself, in words.)"
)


def after_result(message: ChatMessage) -> ChatMessage:
    """The newest tool result as the model reads it, with what to do next (not shown): without
    it the small models call the same tool again instead of answering."""
    failed = any(line.startswith("Error:") for line in message.content.splitlines())
    note = ERROR_NOTE if failed else RESULT_NOTE
    return replace(message, sent=f"{message.content}\n{note}")


def tool_failed(result: str) -> bool:
    """A tool result that is an error (not the user's no: that is not retried)."""
    lines = result.splitlines()
    refused = REFUSED.partition("{}")[0]
    return any(ln.startswith("Error:") for ln in lines) and not any(
        ln.startswith(refused) for ln in lines
    )


def gave_up(turn: list[ChatMessage], steps: int) -> str:
    """The sentence for a turn whose tool steps ran out: what went wrong, or what was found."""
    results = [m for m in turn if m.role == "tool"]
    if not results:
        return f"(I could not get an answer in {steps} steps. Try asking in smaller parts.)"
    last = results[-1]
    errors = [ln for ln in last.content.splitlines() if ln.startswith("Error:")]
    if errors:
        return (
            f"(I could not finish this: the {last.name} tool failed: {errors[0][7:].strip()} "
            "Try rephrasing it, or ask in smaller steps.)"
        )
    return f"(I could not finish this in {steps} steps. The last result was:\n{last.content[:600]})"


def joined(text: str, data: str) -> str:
    """A message and the data that came with it (attachments' fenced text)."""
    return f"{text}\n\n{data}" if data else text


OKAY = "Okay."
# "Never mind", "stop", "forget it"… said as a sentence or clause of its own at the end of a
# message: the user took it back. Leading "oh", "no", "actually"… and a trailing "please" allowed.
_LEAD = r"(?:(?:oh|ah|um|uh|actually|no|okay|ok|wait|sorry|please|just|so)[,\s]+)*"
_CORE = (
    r"(?:never[\s-]?mind|forget (?:it|that|about it)|cancel(?: (?:it|that))?|stop(?: (?:it|that))?"
    r"|scratch that|that'?s enough|enough|don'?t bother|no need)(?:[,\s]+please)?"
)
_TAKEN_BACK = re.compile(rf"(?:^|[.,!;:]\s*){_LEAD}{_CORE}(?:[,\s]+{_LEAD}{_CORE})*[.!\s]*$", re.I)


def taken_back(text: str) -> bool:
    """Whether the message ends by taking itself back ("Tell me a story. Never mind.", "Stop,
    never mind."): nothing is to be done. "How do I make it stop?" is a request."""
    return bool(_TAKEN_BACK.search(text.strip()))
