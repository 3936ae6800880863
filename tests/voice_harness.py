"""A voice loop on fake engines, with a clock for microphone blocks and a record of its events:
shared by the voice-loop tests."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant_app.kernel.chat import ChatSession
from assistant_app.tools.toolbox import ToolBox
from assistant_app.voice.loop import VoiceEngines, VoiceLoop
from assistant_app.voice.stages import VoiceEvent
from audio.endpoint import TurnDetector
from tests.fakes import (
    EnergyVoiceActivityDetector,
    FakeChatModel,
    FakeSpeechToText,
    FakeTextToSpeech,
)

BLOCK = 512
SPEECH = (0.5 * np.sin(np.arange(BLOCK) / 3.0)).astype(np.float32)
QUIET = np.random.default_rng(0).normal(0, 1e-3, BLOCK).astype(np.float32)


class Harness:
    """A loop on fakes, a clock for microphone blocks, and a record of its events."""

    def __init__(
        self,
        replies: list[str],
        heard: list[str],
        echo=None,  # noqa: ANN001
        model=None,  # noqa: ANN001 - a scripted model instead of `replies`
        tools: ToolBox | None = None,
        judge=None,  # noqa: ANN001 - ends a turn at a pause when the thought is finished
        stt=None,  # noqa: ANN001 - other ears than the scripted `heard`
    ) -> None:
        self.events: list[VoiceEvent] = []
        self.changed = threading.Condition()
        self.chat = model or FakeChatModel(replies)
        self.stt = stt or FakeSpeechToText(heard)
        self.session = ChatSession(self.chat, "Be brief.", tools)
        engines = VoiceEngines(
            self.stt, FakeTextToSpeech(), EnergyVoiceActivityDetector(), echo, judge=judge
        )
        self.loop = VoiceLoop(
            engines,
            self.session,
            self.record,
            detector=TurnDetector(end_silence_ms=2500 if judge else 320, start_ms=96),
        )
        self.t = 0.0
        self.loop.start()

    def record(self, event: VoiceEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, kind: str, count: int = 1, timeout: float = 10) -> VoiceEvent:
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.kinds(kind)) >= count, timeout)
        assert ok, f"no {kind} event; got {[e.kind for e in self.events]}"
        return self.kinds(kind)[count - 1]

    def kinds(self, kind: str) -> list[VoiceEvent]:
        return [e for e in self.events if e.kind == kind]

    def say(self, blocks: int, then_quiet: int = 12) -> None:
        for block in [SPEECH] * blocks + [QUIET] * then_quiet:
            self.t += BLOCK / 16000
            self.loop.hear(block, self.t)

    def play(self, samples: int) -> np.ndarray:
        """The speaker takes `samples` from the playback buffer, as a device callback would."""
        return self.loop.playback.read(samples)

    def play_until(self, kind: str, count: int = 1, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.kinds(kind)) < count:
            assert time.monotonic() < deadline, [e.kind for e in self.events]
            if not self.play(480).any():
                time.sleep(0.002)

    def close(self) -> None:
        self.loop.stop()


@pytest.fixture
def make():
    made: list[Harness] = []

    def build(*args, **kwargs) -> Harness:
        made.append(Harness(*args, **kwargs))
        return made[-1]

    yield build
    for h in made:
        h.close()
