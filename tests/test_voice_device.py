"""The whole voice loop through real PortAudio: a private PulseAudio server with null sinks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.audio_env import missing_packages, pulse_null_sink, read_raw

pytestmark = [pytest.mark.audio, pytest.mark.models]
ROOT = Path(__file__).resolve().parents[1]


def test_spoken_question_through_the_sound_server_gets_a_spoken_answer(
    tmp_path: Path, real_store
) -> None:
    if missing := missing_packages(pulse=True):
        pytest.skip(f"needs Debian packages: apt-get install {' '.join(missing)}")
    import numpy as np

    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.config import Config
    from audio.stt import create_speech_to_text
    from audio.tts import create_text_to_speech
    from audio.wav import resample

    # A natural voice: this test is about the sound server, not the ears (bench/ears.py
    # measures robotic voices; espeak's "France" is often heard as "friends").
    tts = create_text_to_speech(Config().tts, real_store)
    spoken = np.concatenate(
        list(tts.synthesize("What is the capital of France?", CancelToken.never()))
    )
    question = resample(spoken, tts.sample_rate_hz, 16000)
    with pulse_null_sink(tmp_path / "pulse") as device:
        env = {
            **os.environ,
            **device.env,
            "ASSISTANT_DATA_DIR": str(real_store.root),
            "ASSISTANT_CONFIG": str(tmp_path / "none.toml"),
        }
        speaker = device.record_speaker(tmp_path / "speaker.raw")
        app = subprocess.Popen(
            [sys.executable, "-m", "assistant_app.cli", "talk", "--turns", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for line in app.stderr:
                if line.startswith("Listening"):
                    break
            else:
                pytest.fail(f"the app never listened: {app.wait(5)}")
            device.feed_mic(question).wait(30)
            out, err = app.communicate(timeout=180)
        finally:
            app.kill()
            time.sleep(0.5)  # let the last of the reply reach the recorder
            speaker.terminate()
            speaker.wait(5)
    assert app.returncode == 0, err
    assert "you: What is the capital of France" in out, err
    reply = read_raw(tmp_path / "speaker.raw")
    stt = create_speech_to_text(Config().stt, real_store)
    heard = stt.transcribe(reply, "en").text.lower()
    assert "paris" in heard, (out, heard)
