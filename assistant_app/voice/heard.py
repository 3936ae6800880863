"""What the user heard of each spoken reply, and when a spoken turn joins the conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant_app.core.messages import ChatMessage

Record = Callable[[list[ChatMessage]], None]  # the kernel's history write (ChatSession.record_turn)


@dataclass
class _Turn:
    heard: list[str] = field(default_factory=list)
    messages: list[ChatMessage] | None = None  # the kernel's turn, once generation ended
    reply: str = ""  # the reply as written (the window shows it whole)
    closed: bool = False  # played to the end, or interrupted
    interrupted: bool = False
    discarded: bool = False  # the user went on speaking: the turn continues in the next


class HeardLedger:
    """Spoken turns between the kernel and the speaker; thread-safe.

    A turn is written to the conversation once two things are known, in either order: the
    kernel's messages for it (when generation ends: the user's words, tool calls and results)
    and how it ended at the speaker. A reply played to the end is kept as written, code and
    all, as the window shows it; an interrupted one keeps only the words that reached the
    speaker, so the model never believes the user heard the rest.
    """

    def __init__(self, record: Record) -> None:
        self._record = record
        self._turns: dict[int, _Turn] = {}
        self._lock = threading.Lock()

    def written(self, turn: int, messages: list[ChatMessage], reply: str) -> None:
        """The kernel finished turn `turn` (answered, stopped or failed)."""
        with self._lock:
            entry = self._turns.setdefault(turn, _Turn())
            entry.messages, entry.reply = list(messages), reply
        self._commit(turn)

    def discard(self, turn: int) -> None:
        """Turn `turn` is not kept: the user went on speaking before its reply was over, and
        the next turn answers all they said."""
        with self._lock:
            self._turns.setdefault(turn, _Turn()).discarded = True

    def heard(self, turn: int, text: str) -> None:
        """Words of turn `turn` that reached the speaker."""
        if text:
            with self._lock:
                self._turns.setdefault(turn, _Turn()).heard.append(text)

    def close(self, turn: int, *, interrupted: bool) -> None:
        """The speaker is done with turn `turn`: played to the end, or cut by a barge-in."""
        with self._lock:
            entry = self._turns.get(turn)
            if entry is None or entry.closed:
                return
            entry.closed, entry.interrupted = True, interrupted
        self._commit(turn)

    def flush(self) -> None:
        """Before a new turn: anything the kernel wrote but the speaker never closed (a muted
        device that stopped, a lost marker) is kept with what was heard so far."""
        with self._lock:
            open_turns = [t for t, e in self._turns.items() if e.messages is not None]
        for turn in open_turns:
            self.close(turn, interrupted=True)

    def heard_text(self, turn: int) -> str:
        """What the user heard of turn `turn`."""
        with self._lock:
            entry = self._turns.get(turn)
            return " ".join(entry.heard) if entry is not None else ""

    def _commit(self, turn: int) -> None:
        with self._lock:
            entry = self._turns.get(turn)
            if entry is None or entry.messages is None or not entry.closed:
                return
            del self._turns[turn]
        if entry.discarded:
            return
        kept = " ".join(entry.heard) if entry.interrupted else entry.reply
        self._record([*entry.messages, ChatMessage("assistant", kept.strip())])
