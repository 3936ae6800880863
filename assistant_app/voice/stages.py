"""Voice-loop stages: threads that read one queue, drop stale turns, and feed the next."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant_app.core.cancel import CancelToken, TurnCounter
from assistant_app.core.engines import SpeechToText, TextToSpeech
from assistant_app.core.errors import AssistantError
from assistant_app.core.messages import SpeechChunk, Transcript, Utterance
from assistant_app.kernel.think import wants_thinking
from assistant_app.voice.spoken import for_the_ear
from audio.hearing import heard_words, kept, unsure
from audio.sentences import SentenceSplitter
from models.end_of_turn import FINISHED_AT, Verdict, only_fillers

if TYPE_CHECKING:
    from assistant_app.kernel.chat import ChatSession, SpokenTurn

log = logging.getLogger(__name__)
STOP = object()  # the end sentinel: each stage passes it on and exits


@dataclass(frozen=True)
class VoiceEvent:
    """Something the user interface or the timeline wants to know, stamped with a clock."""

    kind: str  # speech_started, barge_in, end_of_speech, transcript, first_token, text (a piece
    # of the reply as written, for the window), first_sentence, sentence (each one to speak),
    # first_audio (any sound, a progress line included), answer_audio (the reply's first),
    # permission (a question asked aloud), permission_answered (text: "yes" or "no"),
    # reply_done (text: what was heard), dropped, error (a turn failed), mic_silent,
    # continued (speech went on after the turn ended: it is taken back and joins the next)
    turn: int
    t: float
    text: str = ""


@dataclass(frozen=True)
class Sentence:
    """A sentence to speak; an empty one marks the end of the reply. A `phrase` (a progress
    line, a question) is not part of the reply: its audio is made once and kept."""

    text: str
    turn: int
    phrase: bool = False


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


def nothing_to_judge(text: str) -> bool:
    """Words that cannot end a turn, whatever the judge would say: "Um." says nothing yet, and
    "Think carefully." is followed by the question (answered alone, its spoken "Let me think
    about that carefully." covered the question)."""
    asked, question = wants_thinking(text)
    return not text or only_fillers(text) or (asked and not re.search(r"\w", question))


class SttStage(Stage):
    """Utterance → Transcript, refusing what Whisper itself marks as probably not speech, and
    fillers alone. With a `judge`, the words heard at a pause are judged: a finished thought
    ends the turn at once, one that may be after a shorter silence than the cap
    (`on_finished` gets the end of its speech and the silence to wait for)."""

    def __init__(
        self,
        stt: SpeechToText,
        language: str | None,
        on_answer: Callable[[str], None],
        *args: Any,
        judge: Callable[[str], Verdict] | None = None,
        on_finished: Callable[[float, float], None] | None = None,
        expected: Callable[[], str] = str,
        on_words: Callable[[str, bool, bool], None] = lambda words, whole, unsure: None,
    ) -> None:
        super().__init__("speech-to-text", *args)
        self.stt, self.language, self.on_answer = stt, language, on_answer
        self.judge, self.on_finished, self.on_words = judge, on_finished, on_words
        self.expected = expected  # words the next turn is likely to hold
        self._speculated: tuple[bytes, Transcript] | None = None

    def _judge(self, item: Utterance, transcript: Transcript) -> None:
        if self.judge is None or self.on_finished is None:
            return
        text = self._heard(item, transcript)
        verdict = Verdict(0.0, 0.0) if nothing_to_judge(text) else self.judge(text)
        wait = verdict.wait_s(FINISHED_AT)
        decision = (
            "keep listening" if wait is None
            else f"end the turn after {wait:.1f} s of silence" if wait else "end the turn"
        )  # fmt: skip
        ms = 1000 * verdict.seconds
        log.info(
            "pause after %r: finished %.3f (%.0f ms): %s", text, verdict.probability, ms, decision
        )
        if wait is not None:
            self.on_finished(item.end_s, wait)

    @staticmethod
    def _heard(item: Utterance, transcript: Transcript) -> str:
        return heard_words(kept(transcript.segments), len(item.audio) / 16000)

    def _transcribe(self, audio: np.ndarray) -> Transcript:
        # Only for an engine that weighs them (Moonshine): Whisper's prompt would write them
        # into clips that do not say them (bench/ears.py).
        words = self.expected() if getattr(self.stt, "expects_words", False) else ""
        return self.stt.transcribe(audio, self.language, words)

    def process(self, item: Utterance) -> Iterable[Transcript]:
        key = hashlib.blake2b(item.audio.tobytes(), digest_size=16).digest()
        if (item.tentative or item.partial) and not self.inbox.empty():
            return  # a newer utterance is waiting: this guess is already stale
        if item.partial:  # mid-speech: the last word may be cut off
            words = self._heard(item, self._transcribe(item.audio)).split()
            self.on_words(" ".join(words[:-1]), False, False)
            return
        if item.tentative:
            self._speculated = (key, transcript := self._transcribe(item.audio))
            self.on_words(self._heard(item, transcript), True, unsure(kept(transcript.segments)))
            self._judge(item, transcript)
            return
        if self._speculated is not None and self._speculated[0] == key:
            transcript = self._speculated[1]  # the pause did end the turn: already transcribed
        else:
            transcript = self._transcribe(item.audio)
        self._speculated = None
        segments = kept(transcript.segments)
        text = heard_words(segments, len(item.audio) / 16000)
        if item.answer and not text:
            self.on_answer("")  # heard nothing clear: the question's timer decides
            return
        if not text or only_fillers(text):  # "Um." neither starts nor ends a turn
            self.emit(VoiceEvent("dropped", item.turn, time.monotonic(), transcript.text))
            return
        self.emit(VoiceEvent("transcript", item.turn, time.monotonic(), text))
        if item.answer:
            self.on_answer(text)  # "yes" or "no" to the question asked: not a new turn
            return
        yield Transcript(text, transcript.language, tuple(segments), item.turn)


class ChatStage(Stage):
    """Transcript → sentences to speak, from the kernel's reply (tools and all) as it is
    written; the whole written text goes to the window as `text` events."""

    def __init__(
        self,
        begin: Callable[[int, CancelToken, bool], tuple[ChatSession, SpokenTurn]],
        warm: Callable[[], None],
        *args: Any,
    ) -> None:
        super().__init__("chat", *args)
        # (turn, its token, the ears unsure) -> the session and how this turn is spoken
        self.begin = begin
        self.warm = warm  # evaluates the prompt's fixed start before the first turn
        self.ready = threading.Event()  # set once warm

    def run(self) -> None:
        try:
            self.warm()
        except Exception:  # noqa: BLE001 - the first turn is only slower
            log.exception("warming the chat model failed")
        self.ready.set()
        super().run()

    def process(self, item: Transcript) -> Iterable[Sentence]:
        token = CancelToken(self.turns, item.turn)
        session, spoken = self.begin(item.turn, token, unsure(item.segments))
        splitter, n = SentenceSplitter(first_clause=True), 0  # speech starts at a clause
        with contextlib.closing(session.stream(item.text, token, spoken=spoken)) as reply:
            for piece in reply:
                if token.cancelled:
                    return
                if not splitter.pushed:
                    self.emit(VoiceEvent("first_token", item.turn, time.monotonic()))
                self.emit(VoiceEvent("text", item.turn, time.monotonic(), piece))
                for sentence in splitter.push(piece):
                    n = yield from self._say(sentence, item.turn, n)
        for sentence in splitter.flush():
            n = yield from self._say(sentence, item.turn, n)
        yield Sentence("", item.turn)

    def _say(self, sentence: str, turn: int, n: int):  # noqa: ANN202 - a sub-generator
        spoken = for_the_ear(sentence)
        if not spoken:
            return n
        if n == 0:
            self.emit(VoiceEvent("first_sentence", turn, time.monotonic(), spoken))
        self.emit(VoiceEvent("sentence", turn, time.monotonic(), spoken))
        yield Sentence(spoken, turn)
        return n + 1


class TtsStage(Stage):
    """Sentence → one speech chunk, handed to the speaker's buffer. Phrases (progress lines,
    questions) are synthesised once and kept; `warm` ones are made before the first turn."""

    def __init__(
        self,
        tts: TextToSpeech,
        play: Callable[[SpeechChunk], None],
        warm: list[str],
        *args: Any,
    ) -> None:
        super().__init__("text-to-speech", *args)
        self.tts, self.play = tts, play
        self._warm = warm
        self._phrases: dict[str, np.ndarray] = {}

    def run(self) -> None:
        for text in self._warm:
            try:
                self._phrase(text)
            except Exception:  # noqa: BLE001 - a phrase that fails is made again when needed
                log.exception("could not prepare the phrase %r", text)
        super().run()

    def process(self, item: Sentence) -> Iterable[None]:
        rate = self.tts.sample_rate_hz
        if not item.text:  # an empty chunk follows the reply to the speaker: "done"
            self.play(SpeechChunk(np.zeros(0, np.float32), rate, "", item.turn))
            return ()
        if item.phrase:
            self.play(SpeechChunk(self._phrase(item.text), rate, "", item.turn))
            return ()
        token = CancelToken(self.turns, item.turn)
        parts = list(self.tts.synthesize(item.text, token))
        if parts and not token.cancelled:
            audio = np.concatenate(parts).astype(np.float32)
            self.play(SpeechChunk(audio, rate, item.text, item.turn))
        return ()

    def _phrase(self, text: str) -> np.ndarray:
        if text not in self._phrases:
            parts = list(self.tts.synthesize(text, CancelToken.never()))
            audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
            self._phrases[text] = audio.astype(np.float32)
        return self._phrases[text]
