"""Voice-loop stages: threads that read one queue, drop stale turns, and feed the next."""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant_app.cancel import CancelToken, TurnCounter
from assistant_app.conversation import Conversation
from assistant_app.engines import ChatModel, SpeechToText, TextToSpeech
from assistant_app.errors import AssistantError
from assistant_app.messages import SpeechChunk, Transcript, Utterance
from audio.sentences import SentenceSplitter

log = logging.getLogger(__name__)
STOP = object()  # the end sentinel: each stage passes it on and exits

# Whisper's favourite inventions on breath, hum and silence.
HALLUCINATIONS = {"thank you.", "thank you", "thanks for watching!", "you", "bye.", "."}


@dataclass(frozen=True)
class VoiceEvent:
    """Something the user interface or the timeline wants to know, stamped with a clock."""

    kind: str  # speech_started, barge_in, end_of_speech, transcript, first_token, first_sentence,
    # sentence (each one, as written), first_audio, reply_done, dropped, error (a turn failed),
    # mic_silent (the device is mute)
    turn: int
    t: float
    text: str = ""


@dataclass(frozen=True)
class Sentence:
    """A sentence to speak; an empty one marks the end of the reply."""

    text: str
    turn: int


Emit = Callable[[VoiceEvent], None]


class Stage(threading.Thread):
    """Reads `inbox` until STOP; items of an old turn are dropped before any work is done."""

    def __init__(
        self,
        name: str,
        inbox: queue.Queue,
        outbox: queue.Queue | None,
        turns: TurnCounter,
        emit: Emit,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.inbox, self.outbox, self.turns, self.emit = inbox, outbox, turns, emit

    def run(self) -> None:
        while (item := self.inbox.get()) is not STOP:
            if getattr(item, "turn", self.turns.current) != self.turns.current:
                continue
            try:
                for out in self.process(item):
                    if self.outbox is not None:
                        self.outbox.put(out)
            except Exception as exc:  # one bad item must not stop the conversation
                log.exception("%s failed", self.name)
                message = (
                    str(exc)
                    if isinstance(exc, AssistantError)
                    else (f"{self.name} failed ({type(exc).__name__}: {exc}); see the log.")
                )
                self.emit(VoiceEvent("error", getattr(item, "turn", 0), time.monotonic(), message))
        if self.outbox is not None:
            self.outbox.put(STOP)

    def process(self, item: Any) -> Iterable[Any]:
        raise NotImplementedError


class SttStage(Stage):
    """Utterance → Transcript, refusing what Whisper itself marks as probably not speech."""

    def __init__(self, stt: SpeechToText, language: str | None, *args: Any) -> None:
        super().__init__("speech-to-text", *args)
        self.stt, self.language = stt, language
        self._speculated: tuple[bytes, Transcript] | None = None

    def process(self, item: Utterance) -> Iterable[Transcript]:
        key = hashlib.blake2b(item.audio.tobytes(), digest_size=16).digest()
        if item.tentative:
            if self.inbox.empty():  # a newer utterance is waiting: this guess is already stale
                self._speculated = (key, self.stt.transcribe(item.audio, self.language))
            return
        if self._speculated is not None and self._speculated[0] == key:
            transcript = self._speculated[1]  # the pause did end the turn: already transcribed
        else:
            transcript = self.stt.transcribe(item.audio, self.language)
        self._speculated = None
        segments = [
            s for s in transcript.segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)
        ]
        text = " ".join(s.text for s in segments).strip()
        if not text or (text.lower() in HALLUCINATIONS and len(item.audio) < 16000 * 2):
            self.emit(VoiceEvent("dropped", item.turn, time.monotonic(), transcript.text))
            return
        self.emit(VoiceEvent("transcript", item.turn, time.monotonic(), text))
        yield Transcript(text, transcript.language, tuple(segments), item.turn)


class ChatStage(Stage):
    """Transcript → sentences, streamed as the model writes them."""

    def __init__(self, model: ChatModel, conversation: Conversation, *args: Any) -> None:
        super().__init__("chat", *args)
        self.model, self.conversation = model, conversation

    def process(self, item: Transcript) -> Iterable[Sentence]:
        self.conversation.add_user(item.turn, item.text)
        token = CancelToken(self.turns, item.turn)
        for n, sentence in enumerate(self._sentences(item, token)):
            if token.cancelled:
                return
            if n == 0:
                self.emit(VoiceEvent("first_sentence", item.turn, time.monotonic(), sentence))
            self.emit(VoiceEvent("sentence", item.turn, time.monotonic(), sentence))
            yield Sentence(sentence, item.turn)
        yield Sentence("", item.turn)

    def _sentences(self, item: Transcript, token: CancelToken) -> Iterable[str]:
        splitter = SentenceSplitter()
        for delta in self.model.stream_reply(self.conversation.messages(), [], token):
            if delta.text and not splitter.pushed:
                self.emit(VoiceEvent("first_token", item.turn, time.monotonic()))
            yield from splitter.push(delta.text)
        yield from splitter.flush()


class TtsStage(Stage):
    """Sentence → one speech chunk, handed to the speaker's buffer."""

    def __init__(self, tts: TextToSpeech, play: Callable[[SpeechChunk], None], *args: Any) -> None:
        super().__init__("text-to-speech", *args)
        self.tts, self.play = tts, play

    def process(self, item: Sentence) -> Iterable[None]:
        token = CancelToken(self.turns, item.turn)
        parts = list(self.tts.synthesize(item.text, token)) if item.text else []
        if not item.text:  # an empty chunk follows the reply to the speaker: "done"
            self.play(SpeechChunk(np.zeros(0, np.float32), self.tts.sample_rate_hz, "", item.turn))
        if parts and not token.cancelled:
            audio = np.concatenate(parts).astype(np.float32)
            self.play(SpeechChunk(audio, self.tts.sample_rate_hz, item.text, item.turn))
        return ()
