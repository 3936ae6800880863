"""Frozen messages that cross queues and engine boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Utterance:
    """What the user said in one turn: 16 kHz mono float32 and its stream times in seconds."""

    audio: np.ndarray
    start_s: float
    end_s: float  # the end of speech, before the end-of-turn silence
    turn: int = 0
    tentative: bool = False  # sent at the start of a pause, to transcribe while we wait
    partial: bool = False  # the words so far, sent while the user speaks, for reading ahead
    answer: bool = False  # a reply to a question the assistant asked ("shall I?"), not a turn


@dataclass(frozen=True)
class SpeechStarted:
    """The user started speaking (the barge-in signal)."""

    at_s: float


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech, times in seconds from the start of the audio."""

    start_s: float
    end_s: float
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """What a speech-to-text engine heard."""

    text: str
    language: str
    segments: tuple[Segment, ...] = ()
    turn: int = 0


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation, in the OpenAI chat layout."""

    role: str  # "system" | "user" | "assistant" | "tool"
    content: str  # as shown and saved
    name: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    # How the model read it, where that differs (not saved): `sent`, the content with a
    # spoken turn's style note or the note after a tool result; `context`, the system message
    # just before it (hints, remembered facts). Kept so that the next prompt starts exactly as
    # the last one did, and the model evaluates only what is new (see `unfolded`).
    sent: str = ""
    context: str = ""

    @property
    def prompt(self) -> str:
        """The content as the model reads it."""
        return self.sent or self.content

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.prompt}
        if self.name:
            d["name"] = self.name
        if self.tool_calls:
            d["tool_calls"] = [c.as_dict() for c in self.tool_calls]
        return d


def unfolded(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """The messages as a local model's chat template reads them: a message's kept context
    comes back as the system message before it."""
    out = []
    for message in messages:
        if message.context:
            out.append({"role": "system", "content": message.context})
        out.append(message.as_dict())
    return out


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model asked for."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        # Arguments stay a dict: chat templates (Qwen's) serialise them with `tojson` themselves.
        return {
            "id": self.call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class ReplyDelta:
    """A piece of a streamed reply: text, or a finished tool call, or the end of the reply."""

    text: str = ""
    tool_call: ToolCall | None = None
    finished: bool = False
    turn: int = 0


@dataclass(frozen=True, eq=False)
class SpeechChunk:
    """Mono float32 audio in [-1, 1] and the text it speaks."""

    audio: np.ndarray
    sample_rate_hz: int
    text: str = ""
    turn: int = 0
