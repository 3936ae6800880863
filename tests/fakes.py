"""Fakes for fast logic tests: a scripted chat model that records what it was asked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ChatMessage, ReplyDelta


class FakeChatModel:
    """Replies with scripted texts, one word per delta; records every request except
    one-token ones (warm-ups), which it only counts."""

    name = "fake"
    context_tokens = 4096

    def __init__(self, replies: list[str], on_delta=None) -> None:  # noqa: ANN001
        self.replies = list(replies)
        self.requests: list[list[ChatMessage]] = []
        self.temperatures: list[float | None] = []
        self.on_delta = on_delta
        self.warmed = 0

    def stream_reply(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        cancel: CancelToken,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        tool_choice: str = "auto",
    ) -> Iterator[ReplyDelta]:
        if max_tokens == 1:  # a warm-up: nothing scripted is spent on it
            self.warmed += 1
            yield ReplyDelta(finished=True, turn=cancel.turn)
            return
        self.requests.append(list(messages))
        self.temperatures.append(temperature)
        for i, word in enumerate(self.replies.pop(0).split(" ")):
            if cancel.cancelled:
                break
            yield ReplyDelta(text=word if i == 0 else " " + word, turn=cancel.turn)
            if self.on_delta:
                self.on_delta(i)
        yield ReplyDelta(finished=True, turn=cancel.turn)


class FakeSpeechToText:
    """Returns scripted transcripts in order; records the audio lengths it was given."""

    name = "fake-stt"
    sample_rate_hz = 16000

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.heard: list[int] = []
        self.prompts: list[str] = []  # the words it was told to expect, turn by turn

    def transcribe(self, audio, language=None, prompt=""):  # noqa: ANN001, ANN201
        from assistant_app.core.messages import Segment, Transcript

        self.heard.append(len(audio))
        self.prompts.append(prompt)
        text = self.texts.pop(0)  # a (text, mean token log-probability) pair for an unsure one
        text, logprob = text if isinstance(text, tuple) else (text, -0.1)
        return Transcript(text, "en", (Segment(0.0, len(audio) / 16000, text, 0.0, logprob),))


class FakeTextToSpeech:
    """One chunk per call: 1,000 samples of a tone per word, so heard words can be counted."""

    name = "fake-tts"
    sample_rate_hz = 24000
    samples_per_word = 1000

    def synthesize(self, text, cancel):  # noqa: ANN001, ANN201
        import numpy as np

        if not cancel.cancelled:
            n = self.samples_per_word * len(text.split())
            yield (0.3 * np.sin(np.arange(n) / 5.0)).astype(np.float32)


class EnergyVoiceActivityDetector:
    """Speech is anything louder than a whisper: enough to script turns with synthetic audio."""

    name = "energy"
    frame_samples = 512

    def speech_probability(self, frame) -> float:  # noqa: ANN001
        import numpy as np

        return 1.0 if float(np.sqrt(np.mean(frame**2))) > 0.05 else 0.0

    def reset(self) -> None:
        pass
