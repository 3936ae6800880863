"""The audit log: every tool call, who allowed it and what it returned, as JSON lines."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
AUDIT_NAME = "audit.jsonl"
DECISIONS = ("allowed", "asked-yes", "asked-no", "denied")
RESULT_CHARS = 500  # the start of each result is kept: enough to see what came back


@dataclass(frozen=True)
class ToolUse:
    """One tool call as the chat session handled it."""

    tool: str
    arguments: dict[str, Any]
    decision: str  # allowed | asked-yes | asked-no | denied
    untrusted: bool  # outside text (attachments, files, tool output) had entered the turn
    result: str
    duration_s: float
    at: float = field(default_factory=time.time)  # when the call was proposed, Unix time


@dataclass(frozen=True)
class AuditEntry:
    """A logged tool call: the use, in which conversation and by which assistant."""

    at: float
    conversation: int | None
    assistant: str
    tool: str
    arguments: dict[str, Any]
    decision: str
    untrusted: bool
    result: str  # its first RESULT_CHARS characters
    duration_s: float


class AuditLog:
    """Appends tool calls to a JSON-lines file readable only by the user; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, use: ToolUse, *, conversation: int | None, assistant: str) -> None:
        """Appends `use`; a log that cannot be written is logged, never raised into the chat."""
        entry = AuditEntry(
            use.at,
            conversation,
            assistant,
            use.tool,
            use.arguments,
            use.decision,
            use.untrusted,
            use.result[:RESULT_CHARS],
            round(use.duration_s, 3),
        )
        line = json.dumps(asdict(entry), ensure_ascii=False, default=repr) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "r+b") as out:
                    end = out.seek(0, os.SEEK_END)
                    if end and os.pread(fd, 1, end - 1) != b"\n":
                        line = "\n" + line  # a crash cut the last line: do not join it
                    out.write(line.encode("utf-8"))
        except OSError:
            log.exception("could not write the audit log %s", self.path)

    def entries(self, last: int | None = None) -> list[AuditEntry]:
        """The logged calls, oldest first; only the `last` N when given. Damaged lines (a
        crash mid-write) are skipped."""
        if not self.path.exists():
            return []
        kept: deque[AuditEntry] = deque(maxlen=last if last and last > 0 else None)
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    kept.append(AuditEntry(**json.loads(line)))
                except (ValueError, TypeError):
                    continue
        return list(kept)


def describe(entry: AuditEntry) -> str:
    """An entry as `assistant audit` prints it: a heading line, the arguments, the result."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.at))
    where = f"conversation {entry.conversation}" if entry.conversation is not None else "-"
    flags = "  after outside content" if entry.untrusted else ""
    lines = [
        f"{when}  {where}  {entry.assistant}  {entry.tool}  {entry.decision}  "
        f"{entry.duration_s:.2f} s{flags}"
    ]
    for name, value in entry.arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        body = str(shown).replace("\n", "\n      ")
        lines.append(f"    {name}: {body}")
    result = " ".join(entry.result.split())
    lines.append(f"    -> {result[:200]}{'...' if len(result) > 200 else ''}")
    return "\n".join(lines)
