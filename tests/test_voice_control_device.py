"""The window's voice controller on real PortAudio (an ALSA file device), with fake engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.audio_env import alsa_file_device, missing_packages, run_python

pytestmark = pytest.mark.audio
ROOT = Path(__file__).resolve().parents[1]
MIC_WAV = ROOT / "tests" / "fixtures" / "capital_of_france.wav"

SCRIPT = f"""
import json, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from assistant_app.core.config import Config
from assistant_app.kernel.chat import ChatSession
from assistant_app.voice.control import VoiceController
from assistant_app.voice.loop import VoiceEngines
from tests.fakes import EnergyVoiceActivityDetector, FakeChatModel, FakeSpeechToText
from tests.fakes import FakeTextToSpeech

events, levels, done = [], [], threading.Event()
def emit(event):
    events.append(event.kind)
    if event.kind == "reply_done":
        done.set()
engines = VoiceEngines(FakeSpeechToText(["What is the capital of France?"]),
    FakeTextToSpeech(), EnergyVoiceActivityDetector())
session = ChatSession(FakeChatModel(["Paris is the capital."]), "Be brief.")
voice = VoiceController(Config(), engines, session, emit, levels.append)
voice.push_to_talk(True)  # held from the first block: the device runs faster than real time
voice.open()
time.sleep(0.3)
voice.push_to_talk(False)
answered = done.wait(20)
time.sleep(0.3)
voice.close()
exchanges = [m.content for m in session.history]
print(json.dumps({{"answered": answered, "events": events, "exchanges": exchanges,
                  "loudest": max(levels, default=0.0)}}))
"""


def test_push_to_talk_through_real_portaudio_gets_a_spoken_reply(tmp_path: Path) -> None:
    if missing := missing_packages():
        pytest.skip(f"needs Debian packages: apt-get install {' '.join(missing)}")
    device = alsa_file_device(tmp_path / "alsa", MIC_WAV, playback_rate_hz=24000)
    out = run_python(SCRIPT, device.env, timeout_s=60)
    assert out["answered"], out["events"]
    assert out["exchanges"] == ["What is the capital of France?", "Paris is the capital."]
    assert out["loudest"] > 0.5  # the spoken question moved the level meter
    played = device.playback()
    assert float(np.abs(played).max()) > 0.2  # the fake voice's tone reached the speaker
