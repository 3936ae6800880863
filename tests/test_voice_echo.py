"""The loop on loudspeakers: its own voice comes back through a simulated room into the mic.

Real Silero VAD, hibari TTS and the WebRTC echo canceller; scripted transcripts and replies so
the only thing under test is whether the assistant hears itself.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.signal import butter, lfilter, lfilter_zi

from assistant_app.core.config import Config
from assistant_app.kernel.chat import ChatSession
from assistant_app.voice.loop import VoiceEngines, VoiceLoop
from assistant_app.voice.stages import VoiceEvent
from audio.echo import create_echo_canceller
from audio.endpoint import TurnDetector
from audio.playback import _resample
from audio.tts import create_text_to_speech
from audio.vad import create_voice_activity_detector
from audio.wav import read_audio
from tests.fakes import FakeChatModel, FakeSpeechToText

pytestmark = pytest.mark.models
BLOCK = 512
CANCELLERS = pytest.mark.parametrize("canceller", ["webrtc", "speex"])
STORY = (
    "Once upon a time a small fox lived at the edge of a quiet forest. Every morning it "
    "walked to the river to drink and to watch the fish. One day it met an old turtle who "
    "knew every story of the valley. They became friends and talked until the sun went down."
)


class Room:
    """Speaker → delay, attenuation and a low-pass → microphone, plus faint room noise."""

    def __init__(self, loop: VoiceLoop, delay_ms: int, gain: float, cutoff_hz: float) -> None:
        self.loop = loop
        self.delay = np.zeros(16 * delay_ms, np.float32)
        self.gain = gain
        self.b, self.a = butter(2, cutoff_hz / 8000)
        self.zi = lfilter_zi(self.b, self.a) * 0
        self.noise = np.random.default_rng(3)
        self.t = 0.0
        self.user = np.zeros(0, np.float32)

    def step(self) -> None:
        """32 ms pass: the speaker plays a block, the microphone hears echo and the user."""
        played = _resample(self.loop.playback.read(768), 24000, 16000)[:BLOCK]
        line = np.concatenate([self.delay, played])
        heard, self.delay = line[:BLOCK], line[BLOCK:]
        echo, self.zi = lfilter(self.b, self.a, heard * self.gain, zi=self.zi)
        user, self.user = self.user[:BLOCK], self.user[BLOCK:]
        mic = echo + np.pad(user, (0, BLOCK - len(user))) + self.noise.normal(0, 5e-4, BLOCK)
        self.t += BLOCK / 16000
        self.loop.hear(mic.astype(np.float32), self.t)
        while self.loop._mic.qsize() > 2:  # stay in step with the listener, as a device would
            time.sleep(0.001)

    def starved(self) -> bool:
        """More speech is coming but less than two blocks are queued. The room steps faster
        than real time; a real speaker would not run dry here (synthesis is faster than real
        time), and a sudden restart after a gap is not what the canceller meets in a room."""
        playback = self.loop.playback
        with playback._lock:
            chunks, offset = list(playback._chunks), playback._offset
        if not chunks or any(not len(c.audio) for c in chunks):
            return False  # silent, or the whole reply is queued
        return sum(len(c.audio) for c in chunks) - offset < 2 * 768

    def run_until(self, done, limit_s: float = 60) -> None:  # noqa: ANN001
        deadline = time.monotonic() + limit_s
        while not done():
            assert time.monotonic() < deadline, "the room ran out of time"
            waiting = not self.loop.playback.playing or self.starved()
            if waiting and self.loop.busy and not len(self.user):
                time.sleep(0.005)  # waiting for speech to be synthesised
                continue
            self.step()


@pytest.fixture(scope="module")
def real_parts(real_store):
    config = Config()
    tts = create_text_to_speech(config.tts, real_store)
    vad = create_voice_activity_detector(config.vad, real_store)
    return tts, vad


def make_loop(
    real_parts, events: list[VoiceEvent], replies: list[str], heard: list[str], canceller: str
):
    tts, vad = real_parts
    vad.reset()
    engines = VoiceEngines(FakeSpeechToText(heard), tts, vad, create_echo_canceller(canceller))
    session = ChatSession(FakeChatModel(replies), "Be brief.")
    loop = VoiceLoop(engines, session, events.append, detector=TurnDetector())
    loop.start()
    return loop


def kinds(events: list[VoiceEvent], kind: str) -> list[VoiceEvent]:
    return [e for e in list(events) if e.kind == kind]


@CANCELLERS
@pytest.mark.parametrize(("delay_ms", "gain", "cutoff_hz"), [(30, 0.6, 4000), (80, 0.3, 3000)])
def test_its_own_voice_triggers_nothing(
    real_parts, fixtures, canceller, delay_ms, gain, cutoff_hz
) -> None:
    events: list[VoiceEvent] = []
    loop = make_loop(real_parts, events, [STORY], ["Tell me a story."], canceller)
    room = Room(loop, delay_ms, gain, cutoff_hz)
    room.user = read_audio(fixtures / "capital_of_france.wav")
    try:
        room.run_until(lambda: kinds(events, "reply_done"))
    finally:
        loop.stop()
    assert len(kinds(events, "end_of_speech")) == 1  # the user's question, nothing more
    assert kinds(events, "barge_in") == []
    assert len(kinds(events, "speech_started")) == 1
    assert kinds(events, "reply_done")[0].text == STORY  # heard to the end


@CANCELLERS
def test_the_user_can_still_interrupt_over_the_echo(real_parts, fixtures, canceller) -> None:
    events: list[VoiceEvent] = []
    question = read_audio(fixtures / "capital_of_france.wav")
    loop = make_loop(
        real_parts, events, [STORY, "Paris."], ["Tell me a story.", "Stop."], canceller
    )
    room = Room(loop, 50, 0.45, 3500)
    room.user = question
    try:
        room.run_until(lambda: len(kinds(events, "first_audio")) == 1)
        for _ in range(90):  # ~3 s of the story reach the room
            room.step()
        room.user = question  # the user talks over the assistant
        room.run_until(lambda: len(kinds(events, "reply_done")) == 1)
    finally:
        loop.stop()
    assert len(kinds(events, "barge_in")) >= 1
    history = [(m.role, m.content) for m in loop.session.history]
    assert history[0] == ("user", "Tell me a story.")
    role, heard = history[1]
    assert role == "assistant" and heard and STORY.startswith(heard.rstrip("."))
    assert len(heard) < len(STORY) / 2  # only what was played before the interruption
    assert history[2:] == [("user", "Stop."), ("assistant", "Okay.")]  # taken back: no model


def test_ten_seconds_of_noise_make_no_turn(real_parts) -> None:
    events: list[VoiceEvent] = []
    loop = make_loop(real_parts, events, [], [], "webrtc")
    rng = np.random.default_rng(7)
    fan = lfilter(*butter(2, 0.2), rng.normal(0, 0.05, 16000 * 10)).astype(np.float32)
    clicks = np.zeros_like(fan)
    clicks[rng.integers(0, len(fan), 40)] = 0.8  # a keyboard, a door
    noise = fan + clicks
    try:
        for i in range(len(noise) // BLOCK):
            loop.hear(noise[i * BLOCK : (i + 1) * BLOCK], (i + 1) * BLOCK / 16000)
    finally:
        loop.stop()
    assert kinds(events, "end_of_speech") == [] and kinds(events, "mic_silent") == []
