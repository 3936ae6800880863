"""The spoken conversation: what the user said and what the user actually heard back."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from assistant_app.messages import ChatMessage


@dataclass
class _Entry:
    turn: int
    role: str
    parts: list[str] = field(default_factory=list)


class Conversation:
    """History for the chat model; thread-safe, written by the chat stage and the speaker.

    The assistant's side of a turn is built from what was played, not from what the model
    wrote: after a barge-in the model must not believe the user heard the rest.
    """

    def __init__(self, system_prompt: str) -> None:
        self.system_prompt = system_prompt
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    def load(self, messages: list[ChatMessage]) -> None:
        """Starts from an earlier conversation (typed turns included); only what was said
        counts, not tool calls and their results."""
        entries = []
        for n, message in enumerate(m for m in messages if m.role in ("user", "assistant")):
            if message.content:
                entries.append(_Entry(-1 - n, message.role, [message.content]))
        with self._lock:
            self._entries = entries

    def add_user(self, turn: int, text: str) -> None:
        with self._lock:
            self._entries.append(_Entry(turn, "user", [text]))

    def heard(self, turn: int, text: str) -> None:
        """Records words of turn `turn` that reached the speaker."""
        if not text:
            return
        with self._lock:
            last = self._entries[-1] if self._entries else None
            if last is None or last.turn != turn or last.role != "assistant":
                if not any(e.turn == turn and e.role == "user" for e in self._entries):
                    return  # speech of a turn that was never asked: nothing to attach it to
                last = _Entry(turn, "assistant")
                self._entries.append(last)
            last.parts.append(text)

    def messages(self) -> list[ChatMessage]:
        """The system prompt and the history as the model should see it."""
        with self._lock:
            history = [ChatMessage(e.role, " ".join(e.parts)) for e in self._entries]
        return [ChatMessage("system", self.system_prompt), *history]

    def assistant_text(self, turn: int) -> str:
        """What the user heard of turn `turn`."""
        with self._lock:
            return " ".join(
                " ".join(e.parts) for e in self._entries if e.turn == turn and e.role == "assistant"
            )
