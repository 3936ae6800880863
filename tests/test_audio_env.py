"""The test sound devices behave as documented, through real PortAudio in subprocesses."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio.wav import read_audio, write_wav
from tests.audio_env import (
    FileDevice,
    PulseDevice,
    align,
    alsa_file_device,
    missing_packages,
    pulse_null_sink,
    read_raw,
    run_python,
)

pytestmark = pytest.mark.audio
FIXTURES = Path(__file__).parent / "fixtures"
MIC_WAV = FIXTURES / "capital_of_france.wav"
SPEECH_WAV = FIXTURES / "remind_me.wav"


def require(pulse: bool = False) -> None:
    missing = missing_packages(pulse)
    if missing:
        pytest.skip(f"needs Debian packages: apt-get install {' '.join(missing)}")
    pytest.importorskip("sounddevice", reason="needs the sounddevice package")


@pytest.fixture
def file_device(tmp_path: Path) -> FileDevice:
    require()
    return alsa_file_device(tmp_path / "alsa", MIC_WAV)


def test_file_device_is_the_only_default_device(file_device: FileDevice) -> None:
    out = run_python(
        "import json, sounddevice as sd\n"
        "print(json.dumps({'names': [d['name'] for d in sd.query_devices()],\n"
        "  'input': sd.query_devices(kind='input')['name'],\n"
        "  'output': sd.query_devices(kind='output')['name']}))",
        file_device.env,
    )
    assert out == {"names": ["default"], "input": "default", "output": "default"}


def test_file_device_rec_returns_the_mic_then_silence(file_device: FileDevice) -> None:
    mic = read_audio(MIC_WAV)
    out = run_python(
        "import json, sounddevice as sd\n"
        f"x = sd.rec({len(mic) + 48000}, samplerate=16000, channels=1, dtype='float32',\n"
        "           blocking=True)[:, 0]\n"
        "again = sd.rec(800, samplerate=16000, channels=1, dtype='float32', blocking=True)\n"
        "print(json.dumps({'x': x.tolist(), 'again': again[:, 0].tolist()}))",
        file_device.env,
    )
    recorded = np.array(out["x"], np.float32)
    np.testing.assert_array_equal(recorded[: len(mic)], mic)
    # The capture file ends after 2 s of silence; reading 3 s past the speech stays silent.
    assert not recorded[len(mic) :].any()
    np.testing.assert_array_equal(np.array(out["again"], np.float32), mic[:800])


def test_file_device_int16_capture_is_exact(tmp_path: Path) -> None:
    require()
    device = alsa_file_device(tmp_path, MIC_WAV, capture_dtype="int16")
    out = run_python(
        "import json, sounddevice as sd\n"
        "x = sd.rec(16000, samplerate=16000, channels=1, dtype='int16', blocking=True)\n"
        "print(json.dumps(x[:, 0].tolist()))",
        device.env,
    )
    np.testing.assert_array_equal(np.array(out) / 32768, read_audio(MIC_WAV)[:16000])


def test_file_device_end_of_file_repeats_stale_audio(tmp_path: Path) -> None:
    """Without trailing silence the file plugin serves the last buffer again: no error, no
    block. This is why alsa_file_device appends silence."""
    require()
    loud_end = np.concatenate([read_audio(MIC_WAV)[:8000], np.full(8000, 0.5, np.float32)])
    write_wav(tmp_path / "loud_end.wav", loud_end, 16000)
    device = alsa_file_device(tmp_path / "alsa", tmp_path / "loud_end.wav", tail_silence_s=0)
    out = run_python(
        "import json, sounddevice as sd\n"
        "x = sd.rec(48000, samplerate=16000, channels=1, dtype='float32', blocking=True)\n"
        "print(json.dumps(x[16000:, 0].tolist()))",
        device.env,
    )
    np.testing.assert_allclose(out, 0.5, atol=1e-4)


def test_file_device_playback_lands_sample_exact(file_device: FileDevice) -> None:
    out = run_python(
        "import json, numpy as np, sounddevice as sd\n"
        "tone = (0.5 * np.cos(np.arange(8000) / 7)).astype(np.float32)\n"
        "sd.play(tone, 16000, blocking=True)\n"
        "with sd.OutputStream(samplerate=16000, channels=1, dtype='float32') as out:\n"
        "    out.write(-tone[:4000])\n"
        "print(json.dumps(tone.tolist()))",
        file_device.env,
    )
    tone = np.array(out, np.float32)
    first, second = file_device.playback_streams()
    start = int(np.flatnonzero(first)[0])  # PortAudio primes each stream with zeros
    np.testing.assert_array_equal(first[start : start + len(tone)], tone)
    assert not first[:start].any() and not first[start + len(tone) :].any()
    start = int(np.flatnonzero(second)[0])
    np.testing.assert_array_equal(second[start : start + 4000], -tone[:4000])
    assert len(file_device.playback()) == len(first) + len(second)


def test_file_device_playback_at_the_tts_rate(tmp_path: Path) -> None:
    require()
    device = alsa_file_device(tmp_path, MIC_WAV, playback_rate_hz=24000)
    out = run_python(
        "import json, numpy as np, sounddevice as sd\n"
        "tone = (0.5 * np.cos(np.arange(24000) / 5)).astype(np.float32)\n"
        "sd.play(tone, 24000, blocking=True)\n"
        "print(json.dumps(tone.tolist()))",
        device.env,
    )
    played = device.playback()
    start = int(np.flatnonzero(played)[0])
    np.testing.assert_array_equal(played[start : start + 24000], np.array(out, np.float32))


def test_file_device_full_duplex_in_one_process(file_device: FileDevice) -> None:
    run_python(
        "import json, numpy as np, sounddevice as sd\n"
        "kw = dict(samplerate=16000, channels=1, dtype='float32')\n"
        "with sd.InputStream(**kw) as mic, sd.OutputStream(**kw) as speaker:\n"
        "    got = []\n"
        "    for k in range(20):\n"
        "        speaker.write(np.full(800, (k + 1) / 32, np.float32))\n"
        "        got.append(mic.read(800)[0][:, 0])\n"
        f"np.save({str(file_device.playback_path.parent / 'got.npy')!r}, np.concatenate(got))\n"
        "print(json.dumps({}))",
        file_device.env,
    )
    got = np.load(file_device.playback_path.parent / "got.npy")
    np.testing.assert_array_equal(got, read_audio(MIC_WAV)[:16000])
    played = file_device.playback()
    levels = played[np.flatnonzero(played)[0] :][:16000].reshape(20, 800)
    np.testing.assert_array_equal(levels, np.repeat(np.arange(1, 21)[:, None] / 32, 800, 1))


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseDevice]:
    require(pulse=True)
    with pulse_null_sink(tmp_path_factory.mktemp("pulse")) as device:
        yield device


DUPLEX_SCRIPT = """
import sys, time, numpy as np, soundfile as sf, sounddevice as sd
speech, _ = sf.read(sys.argv[1], dtype="float32")
played, got = [0], []

def play(out, frames, when, status):
    chunk = speech[played[0] : played[0] + frames]
    out.fill(0)
    out[: len(chunk), 0] = chunk
    played[0] += frames

def record(data, frames, when, status):
    got.append(data[:, 0].copy())

kw = dict(samplerate=16000, channels=1, dtype="float32", latency=0.1)
with sd.InputStream(callback=record, **kw), sd.OutputStream(callback=play, **kw):
    print("ready", flush=True)
    start = time.monotonic()
    time.sleep(len(speech) / 16000 + 1)
    rate = played[0] / (time.monotonic() - start)
np.save(sys.argv[2], np.concatenate(got))
print(rate, flush=True)
"""


def test_pulse_full_duplex_is_real_time(pulse: PulseDevice, tmp_path: Path) -> None:
    """The app records the fed mic and plays to the speaker at once, paced by the clock."""
    mic, speech = read_audio(MIC_WAV), read_audio(SPEECH_WAV)
    recorder = pulse.record_speaker(tmp_path / "speaker.raw")
    app = subprocess.Popen(
        [sys.executable, "-c", DUPLEX_SCRIPT, str(SPEECH_WAV), str(tmp_path / "got.npy")],
        env=pulse.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert app.stdout is not None and app.stdout.readline().strip() == "ready"
    pulse.feed_mic(mic)
    played_hz = float(app.communicate(timeout=60)[0].strip())
    time.sleep(0.3)
    recorder.terminate()
    recorder.wait(timeout=10)
    assert app.returncode == 0
    assert 15000 < played_hz < 17000
    _, mic_corr = align(np.load(tmp_path / "got.npy"), mic)
    _, speaker_corr = align(read_raw(tmp_path / "speaker.raw"), speech)
    assert mic_corr > 0.99 and speaker_corr > 0.99


def test_pulse_loopback_lag(pulse: PulseDevice) -> None:
    """A burst played into the sink comes back from its monitor within 200 ms, unchanged."""
    out = run_python(
        "import json, numpy as np, sounddevice as sd\n"
        "burst = (np.random.default_rng(0).standard_normal(800) * 0.3).astype(np.float32)\n"
        "sig = np.zeros(16000, np.float32); sig[4000:4800] = burst\n"
        "y = sd.playrec(sig, 16000, channels=1, dtype='float32', blocking=True)\n"
        "print(json.dumps({'y': y[:, 0].tolist(), 'sig': sig.tolist()}))",
        dict(pulse.env, PULSE_SOURCE=f"{pulse.speaker}.monitor"),
    )
    lag, corr = align(np.array(out["y"], np.float32), np.array(out["sig"], np.float32)[3900:4900])
    lag_ms = (lag - 3900) / 16
    print(f"loopback lag {lag_ms:.1f} ms, correlation {corr:.5f}")
    assert 0 < lag_ms < 200 and corr > 0.999


def test_pulse_daemon_is_killed_when_the_test_fails(tmp_path: Path) -> None:
    require(pulse=True)
    with pytest.raises(RuntimeError, match="test failed"):
        with pulse_null_sink(tmp_path) as device:
            pid = device.daemon_pid
            assert device.pactl("get-default-sink").strip() == "speaker"
            raise RuntimeError("test failed")
    assert not Path(f"/proc/{pid}").exists()
