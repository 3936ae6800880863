"""`assistant talk`: the voice loop on the microphone, or headless over WAV files."""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant_app.core.config import Config
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import ModelUnavailable
from assistant_app.kernel.chat import ChatSession
from assistant_app.voice.loop import VoiceEngines, VoiceLoop
from assistant_app.voice.stages import VoiceEvent
from audio.endpoint import detector_for
from audio.hearing import spoken_language
from audio.playback import Played

log = logging.getLogger(__name__)

TIMELINE = (
    "end_of_speech", "transcript", "first_token", "first_sentence", "first_audio", "answer_audio"
)  # fmt: skip


Report = Callable[[str, str], None]  # (role, state): "loading", "ready", or why it failed


def load_brain(config: Config) -> tuple[ChatSession, ChatModel]:
    """The same assistant `assistant chat` and the window talk to: the current assistant's
    instructions, tools, knowledge, memory and a saved conversation; warmed for the voice."""
    from assistant_app.kernel.chat import ThinkSettings
    from assistant_app.kernel.session import build_session, knowledge_index
    from assistant_app.storage.profiles import profiles_for
    from models.llm import create_chat_model
    from models.store import open_store

    profiles = profiles_for(config)
    profile = profiles.load(profiles.current())
    model = create_chat_model(config.llm, open_store(config))
    session = build_session(
        config,
        model,
        profile,
        tools=True,
        think=ThinkSettings(False, config.llm.think_samples, config.llm.think_budget_s),
        knowledge=knowledge_index(config, profile),
    )
    return session, model


def load_ears_and_voice(
    config: Config,
    store,  # noqa: ANN001 - a models.store.ModelStore
    chat: ChatModel,
    *,
    echo: bool,
    report: Report | None = None,
) -> VoiceEngines:
    """Speech recognition, the voice, voice activity detection and the echo canceller, and a
    model of its own for spoken turns when [voice] llm_model names another than `chat`;
    `report` hears each role's state as it loads."""
    from audio.stt import create_speech_to_text
    from audio.tts import create_text_to_speech
    from audio.vad import create_voice_activity_detector
    from models.end_of_turn import create_turn_judge

    say = report or (lambda role, state: None)
    voice = config.voice
    stt_config = dataclasses.replace(
        config.stt, model=voice.stt_model or config.stt.model, beam_size=voice.stt_beam_size
    )
    say("speech recognition", "loading")
    stt = create_speech_to_text(stt_config, store)
    say("speech recognition", "ready")
    say("voice", "loading")
    tts = create_text_to_speech(config.tts, store)
    vad = create_voice_activity_detector(config.vad, store)
    canceller = None
    if echo and voice.echo_cancellation != "off":
        from audio.echo import create_echo_canceller

        canceller = create_echo_canceller(voice.echo_cancellation)
    own = None
    if voice.llm_model and voice.llm_model != getattr(chat, "name", ""):
        from models.llm import create_chat_model

        own = create_chat_model(
            dataclasses.replace(
                config.llm, model=voice.llm_model, max_reply_tokens=voice.max_reply_tokens
            ),
            store,
        )
    say("voice", "ready")
    try:
        judge = create_turn_judge(config.vad, store)
    except ModelUnavailable as exc:  # listening still works: silence ends the turns
        log.warning("%s Ending turns after silence instead.", exc)
        say("end of turn", f"{exc} Turns end after silence meanwhile.")
        judge = None
    return VoiceEngines(stt, tts, vad, canceller, own, judge)


def make_loop(
    config: Config,
    engines: VoiceEngines,
    session: ChatSession,
    emit,  # noqa: ANN001 - an Emit
    **options,  # noqa: ANN003 - more VoiceLoop options (on_permission)
) -> VoiceLoop:
    """The voice loop around `session`, with the configured listening and speaking style."""
    from assistant_app.voice.spoken import STYLE

    detector = detector_for(config.vad, engines.judge is not None)
    return VoiceLoop(
        engines,
        session,
        emit,
        detector=detector,
        language=spoken_language(config.stt.language),
        style=config.voice.system_prompt or STYLE,
        **options,
    )


class TurnOver:
    """When the next file may be spoken: the last one's reply has been played, or nothing it
    said became a turn (silence, noise) within the longest pause the loop waits through.
    The loop alone cannot tell: it is idle while a pause is being judged."""

    def __init__(self, loop: VoiceLoop, patience_s: float) -> None:
        self._loop, self._patience = loop, patience_s
        self._done = threading.Semaphore(0)
        self._since: float | None = None

    def reply_done(self) -> None:
        self._done.release()

    def __call__(self, timeout: float) -> bool:
        self._since = self._since or time.monotonic()
        quiet = not self._loop.busy and not self._loop.detector.in_speech
        over = self._done.acquire(timeout=timeout) or (
            quiet and time.monotonic() - self._since > self._patience
        )
        if over:
            self._since = None
        return over


class Timeline:
    """Collects the loop's events per turn and prints each step relative to the end of speech."""

    def __init__(self) -> None:
        self.turns: dict[int, dict[str, VoiceEvent]] = defaultdict(dict)
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event: VoiceEvent) -> None:
        with self._lock:
            self.turns[event.turn].setdefault(event.kind, event)
            if event.kind in ("error", "mic_silent"):
                self.errors.append(event.text)
                print(f"assistant: {event.text}", file=sys.stderr, flush=True)

    def seconds(self, turn: int) -> dict[str, float]:
        marks = self.turns[turn]
        start = marks["end_of_speech"].t
        return {k: marks[k].t - start for k in TIMELINE if k in marks}

    def describe(self, turn: int) -> str:
        steps = self.seconds(turn)
        return " → ".join(f"{k.replace('_', ' ')} {v:+.2f}s" for k, v in steps.items())


def run_files(config: Config, inputs: list[Path], output_dir: Path) -> int:
    """Runs the same stages over files; writes reply WAVs and transcripts; prints timelines."""
    from audio.devices import FileInput, FileOutput
    from audio.echo import PassthroughEchoCanceller
    from audio.wav import read_audio, write_wav
    from models.store import open_store

    clips = [read_audio(p) for p in inputs]  # bad files fail here, before models load
    output_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline()
    replies: dict[int, list[np.ndarray]] = defaultdict(list)
    shown: dict[int, list[str]] = defaultdict(list)

    def events(event: VoiceEvent) -> None:
        timeline(event)
        if event.kind == "text":
            shown[event.turn].append(event.text)
        elif event.kind == "reply_done":
            turn_over.reply_done()

    session, model = load_brain(config)
    engines = load_ears_and_voice(config, open_store(config), model, echo=False)
    # A file cannot hear the replies, as a headset's microphone cannot: the loop listens while
    # it speaks, so words that go on after a pause are heard even once the answer has begun.
    engines = dataclasses.replace(engines, echo=PassthroughEchoCanceller())
    loop = make_loop(config, engines, session, events)
    vad = config.vad
    longest_s = (vad.end_of_turn_cap_ms if engines.judge else vad.end_of_turn_silence_ms) / 1000
    turn_over = TurnOver(loop, patience_s=longest_s + 1.0)
    recorder = loop.playback._on_played

    def record(played: Played) -> None:
        if played.finished and len(played.chunk.audio):
            replies[played.chunk.turn].append(played.chunk.audio)
        recorder(played)

    loop.playback._on_played = record
    speaker = FileOutput(loop.playback)
    mic = FileInput(clips, loop.hear, turn_over)
    loop.start()
    loop.wait_ready(300)  # as a person would wait for "Listening."
    speaker.start()
    mic.start()
    mic.finished.wait()
    loop.wait_idle(120)
    for thread in (mic, speaker):
        thread.stop()
    loop.stop()
    answered = [t for t, marks in sorted(timeline.turns.items()) if "reply_done" in marks]
    for n, turn in enumerate(answered, 1):
        marks = timeline.turns[turn]
        heard = marks.get("transcript")
        said = marks["reply_done"].text
        audio = np.concatenate(replies[turn]) if replies[turn] else np.zeros(0, np.float32)
        write_wav(output_dir / f"reply_{n}.wav", audio, loop.playback.sample_rate_hz)
        (output_dir / f"reply_{n}.txt").write_text(
            f"user: {heard.text if heard else ''}\nassistant: {said}\n"
            f"window: {''.join(shown[turn]).strip()}\n",
            encoding="utf-8",
        )
        print(f"turn {n}: you said: {heard.text if heard else '(nothing recognised)'}")
        print(f"turn {n}: assistant: {said}")
        print(f"turn {n}: {timeline.describe(turn)}")
    print(f"wrote {len(answered)} repl{'y' if len(answered) == 1 else 'ies'} to {output_dir}")
    return 0 if len(answered) == len(inputs) and not timeline.errors else 1


def run_live(config: Config, turns: int = 0) -> int:
    """Talk through the microphone and speaker until Ctrl+C, or until `turns` were answered."""
    from audio.devices import SoundDeviceInput, SoundDeviceOutput
    from models.store import open_store

    answered = threading.Semaphore(0)

    def show(event: VoiceEvent) -> None:
        timeline(event)
        if event.kind == "transcript":
            print(f"you: {event.text}", flush=True)
        elif event.kind == "reply_done" and "transcript" in timeline.turns[event.turn]:
            print(f"assistant: {event.text}", flush=True)
            answered.release()
        elif event.kind == "barge_in":
            print("(interrupted)", flush=True)
        elif event.kind == "permission":
            print(f"assistant asks: {event.text}", flush=True)

    timeline = Timeline()
    print("Loading models...", file=sys.stderr)
    session, model = load_brain(config)
    engines = load_ears_and_voice(config, open_store(config), model, echo=True)
    loop = make_loop(config, engines, session, show)
    loop.set_mode(config.voice.mode)
    speaker = SoundDeviceOutput(config.audio.output_device, loop.playback)
    mic = SoundDeviceInput(config.audio.input_device, loop.hear)
    loop.start()
    try:
        speaker.start()
        mic.start()
        loop.wait_ready(300)
        print("Listening. Speak; Ctrl+C quits.", file=sys.stderr, flush=True)
        for _ in iter(int, 1) if not turns else range(turns):
            while not answered.acquire(timeout=0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        mic.stop()
        speaker.stop()
        loop.stop()
    return 0
