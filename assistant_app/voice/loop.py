"""The voice loop: microphone → turn-taking → STT → chat → TTS → speaker, with barge-in."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from assistant_app.core.cancel import CancelToken, TurnCounter
from assistant_app.core.engines import ChatModel, SpeechToText, TextToSpeech, VoiceActivityDetector
from assistant_app.core.messages import ChatMessage, SpeechStarted, Utterance
from assistant_app.kernel.chat import ChatSession, SpokenTurn, refuse
from assistant_app.kernel.expected import expected_words
from assistant_app.voice import spoken
from assistant_app.voice.asking import AskAloud, OnPermission
from assistant_app.voice.heard import HeardLedger
from assistant_app.voice.stages import (
    STOP,
    ChatStage,
    Emit,
    Sentence,
    SttStage,
    TtsStage,
    VoiceEvent,
)
from audio.echo import EchoCanceller, ResidualEchoGate
from audio.endpoint import DEAD_MIC_MESSAGE, DeadMicrophone, TurnDetector
from audio.playback import PlaybackBuffer, Played, heard_text
from models.end_of_turn import TextTurnJudge

log = logging.getLogger(__name__)
MODES = ("hands-free", "push-to-talk")
# Speech this soon after the last word of a turn, before its answer was over, goes on: ~1.5 s of
# silence to the ear, the VAD's edges shaving up to 0.5 s off the words on both sides.
GOES_ON_S = 2.0


@dataclass(frozen=True)
class VoiceEngines:
    """The ears and the mouth. The brain is the kernel's ChatSession, shared with typing."""

    stt: SpeechToText
    tts: TextToSpeech
    vad: VoiceActivityDetector
    echo: EchoCanceller | None = None  # None: half-duplex, deaf while speaking
    chat: ChatModel | None = None  # a model for spoken turns; None: the session's own
    judge: TextTurnJudge | None = None  # None: silence alone ends a turn


class VoiceLoop:
    """Owns the stages and their queues. Feed microphone blocks to `hear`; the device that
    plays `playback` calls its `read`. Engines are shared, never owned; every spoken turn is a
    turn of `session` (which the window may swap for another conversation between turns)."""

    def __init__(
        self,
        engines: VoiceEngines,
        session: ChatSession,
        emit: Emit,
        *,
        detector: TurnDetector,
        language: str | None = None,
        output_rate_hz: int = 24000,
        dead_mic_s: float = 2.0,
        style: str = spoken.STYLE,
        on_permission: OnPermission | None = None,
    ) -> None:
        self.engines = engines
        self.session = session
        self.style = style
        self.ledger = HeardLedger(lambda messages: self.session.record_turn(messages))
        self._emit_outside = emit
        self.turns = TurnCounter()
        self.detector = detector
        self.mode = "hands-free"
        self.muted = False
        self.playback = PlaybackBuffer(output_rate_hz, self._on_played)
        self._dead_mic = DeadMicrophone(dead_mic_s)
        echo = engines.echo
        self._gate = ResidualEchoGate() if echo is not None and echo.needs_echo_gate else None
        self._ptt: list[np.ndarray] | None = None
        self._ptt_start = 0.0
        self._mic: queue.Queue = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        stt_q: queue.Queue = queue.Queue()
        chat_q: queue.Queue = queue.Queue()
        tts_q: queue.Queue = queue.Queue()
        self._listener = threading.Thread(
            target=self._listen, args=(stt_q,), name="listen", daemon=True
        )
        self._tts_q = tts_q
        self.asking = AskAloud(self._say, self._emit, self.playback, on_permission)
        self.expected = ""  # the words the next turn is likely to hold, for the ears
        self._chat = ChatStage(self._begin, self._warm, chat_q, tts_q, self.turns, self._emit)
        self._stages = [
            SttStage(
                engines.stt, language, self.asking.heard, stt_q, chat_q, self.turns, self._emit,
                judge=engines.judge.judge if engines.judge is not None else None,
                on_finished=lambda end_s, wait_s: self._mic.put(("finished", (end_s, wait_s))),
                on_words=self._read_ahead,
                expected=lambda: self.expected,
            ),
            self._chat,
            TtsStage(
                engines.tts, self.playback.add, spoken.progress_lines(), tts_q, None, self.turns,
                self._emit,
            ),
        ]  # fmt: skip
        # While the user speaks, the next turn's prompt start is evaluated (`_ready_next`).
        self._next, self._stopped = threading.Event(), False
        # (turn, words so far, all of them, the ears unsure of them)
        self._ahead: tuple[int, str, bool, bool] | None = None
        self._ahead_lock = threading.Lock()  # the ears set it, the reader takes it
        self._readying = threading.Thread(target=self._ready_next, name="ready", daemon=True)
        self._started_turns: set[int] = set()
        self._answered_turns: set[int] = set()
        # The last turn and what was said in it.
        self._last: tuple[int, Utterance] | None = None
        self._joined: Utterance | None = None  # the start of a turn that went on

    # -- control, from any thread ------------------------------------------------------------
    def start(self) -> None:
        self._listener.start()
        self._readying.start()
        for stage in self._stages:
            stage.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ends every stage through the sentinel; speech in progress is dropped."""
        self.turns.advance()
        self.playback.stop()
        self._stopped = True
        self._next.set()
        model = self.engines.chat or self.session.model  # the one that reads ahead
        getattr(model, "give_way", lambda: None)()
        self._mic.put(STOP)
        for thread in (self._listener, self._readying, *self._stages):
            thread.join(timeout)

    def hear(self, block: np.ndarray, t: float) -> None:
        """A microphone block (16 kHz float32) captured at monotonic time `t` (its end)."""
        self._mic.put((block, t))

    def interrupt(self) -> None:
        """Stops speech, generation and tools now (barge-in, the stop button, push-to-talk);
        the history keeps what was heard."""
        old = self.turns.current
        turn = self.turns.advance()
        partial = self.playback.stop()
        if partial is not None:
            self.ledger.heard(partial.chunk.turn, heard_text(partial))
        self.ledger.close(old, interrupted=True)
        self._emit(VoiceEvent("barge_in", turn, time.monotonic()))
        self._idle.set()  # nothing is owed any more: the next turn (if any) clears it

    def answer_permission(self, allowed: bool) -> None:
        """The window's buttons answer the question asked aloud."""
        self.asking.answer(allowed)

    def push_to_talk(self, pressed: bool) -> None:
        """Press: interrupt and record everything; release: that recording is the turn."""
        self._mic.put(("ptt", pressed))

    def set_muted(self, muted: bool) -> None:
        """A muted microphone is not listened to at all (ordered with the audio already sent)."""
        self._mic.put(("muted", muted))

    def set_detector(self, detector: TurnDetector) -> None:
        """New listening settings (sensitivity, end-of-turn delay), from the next frame on."""
        self._mic.put(("detector", detector))

    def set_mode(self, mode: str) -> None:
        """'hands-free' (voice activity starts turns) or 'push-to-talk'."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
        self._mic.put(("mode", mode))

    @property
    def busy(self) -> bool:
        """From the end of the user's turn until the reply has been played (or dropped)."""
        return not self._idle.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Waits until the chat model has evaluated what every prompt starts with (started
        with the loop): a question asked after this is answered at full speed."""
        return self._chat.ready.wait(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Waits until the current turn has been answered and played."""
        return self._idle.wait(timeout)

    # -- the listening stage -----------------------------------------------------------------
    def _listen(self, stt_q: queue.Queue) -> None:
        while (item := self._mic.get()) is not STOP:  # (block, t) or (command, value)
            try:
                if isinstance(item[0], str) and item[0] == "ptt":
                    self._toggle_ptt(item[1], stt_q)
                elif isinstance(item[0], str) and item[0] == "finished":
                    if (utterance := self.detector.end_after(*item[1])) is not None:
                        self._turn(utterance, stt_q)  # the thought is finished: answer now
                elif isinstance(item[0], str):
                    setattr(self, item[0], item[1])
                    self.detector.reset()
                else:
                    self._frame(item[0], item[1], stt_q)
            except Exception:  # noqa: BLE001 - keep listening whatever one frame did
                log.exception("listening failed on one frame")
        stt_q.put(STOP)

    def _frame(self, block: np.ndarray, t: float, stt_q: queue.Queue) -> None:
        if self._dead_mic.push(block):
            # Not an "error": it concerns the device, not the turn in progress.
            self._emit(VoiceEvent("mic_silent", self.turns.current, t, DEAD_MIC_MESSAGE))
        reference = self.playback.reference(len(block))
        if self.muted:
            return
        if self._ptt is not None:
            self._ptt.append(block)
            return
        if self.mode != "hands-free":
            return
        echo = self.engines.echo
        if echo is None and self.playback.playing:
            self.detector.reset()  # half-duplex: the microphone is deaf while we speak
            return
        clean = echo.process(block, reference) if echo is not None else block
        probability = self.engines.vad.speech_probability(clean)
        if self._gate is not None and not self._gate.admits(clean, reference):
            probability = 0.0  # what is left of our own voice, not the user
        for event in self.detector.push(clean, probability, t):
            if isinstance(event, SpeechStarted):
                self._emit(VoiceEvent("speech_started", self.turns.current, event.at_s))
                if not self.busy and not self.asking.waiting and self._chat.ready.is_set():
                    self._next.set()  # a new turn, most likely: have its start evaluated
                if self.asking.waiting:
                    self.asking.listening()  # the answer is coming: not a barge-in
                elif self._goes_on(event.at_s):
                    self._reopen()  # the pause was not the end of the thought
                elif self.busy:
                    self.interrupt()
            elif event.tentative or (event.partial and not self.busy):  # not in a barge-in
                stt_q.put(replace(self._with_start(event), turn=self.turns.current))
            else:
                self._turn(event, stt_q)

    def _turn(self, utterance: Utterance, stt_q: queue.Queue) -> None:
        if self.asking.waiting:  # the answer to "shall I?", heard within the same turn
            current = self.turns.current
            stt_q.put(Utterance(utterance.audio, utterance.start_s, utterance.end_s, current,
                                answer=True))  # fmt: skip
            return
        if self.busy:
            self.interrupt()
        utterance, self._joined = self._with_start(utterance), None
        turn = self.turns.advance()
        self._idle.clear()
        self._last = (turn, utterance)
        self._emit(VoiceEvent("end_of_speech", turn, utterance.end_s))
        stt_q.put(Utterance(utterance.audio, utterance.start_s, utterance.end_s, turn))

    def _with_start(self, utterance: Utterance) -> Utterance:
        """The words before the pause of a turn that went on, then the rest (a cough that made
        no utterance of its own does not join a question said much later). The words heard
        at its pauses are of the same audio as the turn's: their transcript and what the model
        read ahead of them serve the turn as they are."""
        first = self._joined
        if first is None or utterance.start_s - first.end_s > 2 * GOES_ON_S:
            return utterance
        audio = np.concatenate([first.audio, utterance.audio])
        return replace(utterance, audio=audio, start_s=first.start_s)

    def _goes_on(self, at_s: float) -> bool:
        """Speech resumed soon after the last turn's words, before its answer was over: not
        yet heard, or begun but still playing (the user, who had not finished, talks on over
        its first words; a follow-up after a short answer was over is a new turn). Counted
        from the words, not from when the turn was ended, which comes sooner the quicker the
        ears and the judge are."""
        if self._last is None or self.engines.judge is None:
            return False
        turn, said = self._last
        return (
            turn == self.turns.current
            and (turn not in self._answered_turns or self.busy)
            and at_s - said.end_s <= GOES_ON_S
        )

    def _reopen(self) -> None:
        """The last turn is taken back: its reply stops and is not kept; what is said next
        joins what was said before, and the whole is answered."""
        turn, said = self._last  # type: ignore[misc]
        self._last = None
        log.info("speech went on after turn %d ended: it continues that turn", turn)
        self.ledger.discard(turn)
        self._emit(VoiceEvent("continued", turn, said.end_s))
        self.interrupt()
        self._joined = said

    def _toggle_ptt(self, pressed: bool, stt_q: queue.Queue) -> None:
        if pressed and self._ptt is None:
            self.interrupt()
            self.detector.reset()
            self._ptt, self._ptt_start = [], time.monotonic()
        elif not pressed and self._ptt is not None:
            blocks, self._ptt = self._ptt, None
            if blocks:
                now = time.monotonic()
                self._turn(Utterance(np.concatenate(blocks), self._ptt_start, now), stt_q)

    # -- the kernel's side of a spoken turn -----------------------------------------------------
    def _begin(
        self, turn: int, token: CancelToken, unsure: bool = False
    ) -> tuple[ChatSession, SpokenTurn]:
        """A transcript reached the chat stage: the session and how this turn is spoken (with
        a word to the model when the ears were `unsure` of what they heard)."""
        self.ledger.flush()
        said: list[str] = []

        def on_step(step: str) -> None:
            if not said:  # one progress line a turn is plenty
                said.append(step)
                self._say(spoken.progress_line(step, turn), turn)

        return self.session, SpokenTurn(
            self.style,
            lambda tool, call: self.asking.ask(tool, call, turn, token),
            on_step,
            lambda messages, reply: self._written(turn, messages, reply),
            self.engines.chat,
            spoken.UNSURE if unsure else "",
        )

    def _warm(self) -> None:
        """Before the first turn: the prompt's fixed start evaluated, the words to expect."""
        self.session.warm_up(self.engines.chat)
        self.expected = expected_words(self.session)

    def _ready_next(self) -> None:
        """Evaluates the start of the next spoken turn's prompt (how to answer for the ear,
        then the words heard so far) after a reply and while the user is speaking: the model
        then reads 0-8 tokens after the end of speech instead of ~15 (~50 with none ahead)."""
        while self._next.wait() and not self._stopped:
            self._next.clear()
            with self._ahead_lock:
                ahead, self._ahead = self._ahead, None
            turn, words, whole, unsure = ahead or (self.turns.current, "", False, False)
            if turn != self.turns.current or (words and self.busy):
                continue  # heard before a turn that has begun since: too late to help it
            note = spoken.UNSURE if unsure else ""
            style_only = SpokenTurn(
                self.style, refuse, lambda s: None, lambda m, r: None, None, note
            )
            try:
                self.session.warm_up(self.engines.chat, style_only, words, whole=whole)
            except Exception:  # noqa: BLE001 - the turn only evaluates it itself
                log.exception("evaluating the next turn's start failed")

    def _read_ahead(self, words: str, whole: bool, unsure: bool) -> None:
        """The words heard so far (`whole`: all of them, at a pause) are read by the model
        while the user speaks or the judge decides: after the end of speech it reads only
        what came after them."""
        if words and not self.busy and not self.asking.waiting and self._chat.ready.is_set():
            with self._ahead_lock:
                self._ahead = (self.turns.current, words, whole, unsure)
            self._next.set()

    def _written(self, turn: int, messages: list[ChatMessage], reply: str) -> None:
        self.ledger.written(turn, messages, reply)
        self.expected = expected_words(self.session)  # a fact may have been remembered

    def _say(self, phrase: str, turn: int) -> None:
        """A progress line or a question, spoken now, in order with the reply."""
        self._tts_q.put(Sentence(phrase, turn, phrase=True))

    # -- events ------------------------------------------------------------------------------
    def _on_played(self, played: Played) -> None:
        turn = played.chunk.turn
        if not len(played.chunk.audio):  # the end-of-reply marker has reached the speaker
            self._finish(turn)
            return
        if turn not in self._started_turns:
            self._started_turns.add(turn)
            self._emit(VoiceEvent("first_audio", turn, time.monotonic()))
        if played.chunk.text and turn not in self._answered_turns:
            self._answered_turns.add(turn)
            self._emit(VoiceEvent("answer_audio", turn, time.monotonic()))
        if played.finished:
            self.ledger.heard(turn, played.chunk.text)

    def _emit(self, event: VoiceEvent) -> None:
        try:
            self._emit_outside(event)
        except Exception:  # noqa: BLE001 - a broken listener must not break the loop
            log.exception("event handler failed")
        if event.kind in ("dropped", "error"):
            self._finish(event.turn)

    def _finish(self, turn: int) -> None:
        if turn == self.turns.current and not self._idle.is_set():
            heard = self.ledger.heard_text(turn)
            self.ledger.close(turn, interrupted=False)
            self._emit(VoiceEvent("reply_done", turn, time.monotonic(), heard))
            self._idle.set()
            if self._chat.ready.is_set():
                self._next.set()  # the next turn's start, read while the user thinks
