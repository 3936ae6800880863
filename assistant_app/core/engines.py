"""The engine roles: one small Protocol per role. Implementations live in models/ and audio/."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ChatMessage, ReplyDelta, Transcript


@runtime_checkable
class SpeechToText(Protocol):
    """Turns 16 kHz mono float32 audio into text."""

    name: str
    sample_rate_hz: int

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, prompt: str = ""
    ) -> Transcript:
        """`prompt`: words the speech is likely to contain (names, tools, the last reply)."""
        ...


@runtime_checkable
class TextToSpeech(Protocol):
    """Speaks text as a stream of mono float32 chunks (one per sentence or so)."""

    name: str
    sample_rate_hz: int

    def synthesize(self, text: str, cancel: CancelToken) -> Iterator[np.ndarray]: ...


@runtime_checkable
class VoiceActivityDetector(Protocol):
    """Gives the probability that a frame of `frame_samples` samples at 16 kHz is speech."""

    name: str
    frame_samples: int

    def speech_probability(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None: ...


@runtime_checkable
class ChatModel(Protocol):
    """Streams a reply to a conversation, optionally calling tools.

    A last assistant message is the reply's beginning, to be continued (a prefill). A server
    that cannot continue one may reply afresh: callers accept either."""

    name: str
    context_tokens: int

    def stream_reply(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        cancel: CancelToken,
        *,
        max_tokens: int | None = None,  # None: the model's configured reply length
        temperature: float | None = None,  # None: the model's configured temperature
        # As OpenAI's: "auto" (the model decides), "none" (the tools stay listed, so the prompt
        # starts as before and its evaluated prefix is reused, but the reply must not call one)
        # "required" (the reply is a call) or a tool's name (the reply is a call to that tool).
        tool_choice: str = "auto",
    ) -> Iterator[ReplyDelta]: ...


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to unit-length vectors."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


# The image generator's Protocol lives beside its request and result (models.image_meta):
# `ImageGenerator.generate(request, cancel, progress) -> ImageResult`.
from models.image_meta import ImageGenerator  # noqa: E402, F401
