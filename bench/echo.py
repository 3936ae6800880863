"""Benchmark: echo cancellers on the assistant's own voice, judged by what the Silero VAD hears.

Run from the repo root: `.venv/bin/python bench/echo.py [--no-stt]`. Candidates whose package or
library is missing are listed as skipped.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table  # noqa: E402

RATE = 16000
VAD_FRAME = 512
ASSISTANT_TEXT = (
    "Sure, here is the weather for today. It will be mostly sunny with a light breeze from the "
    "west. In the afternoon the clouds may gather near the coast, and there is a small chance "
    "of rain. Remember to bring a warm jacket if you stay outside after sunset."
)
USER_TEXT = "What is the capital of France?"
# (delay ms, gain, low-pass Hz): a near laptop speaker to a quieter, duller room.
ROOMS = ((30, 0.6, 4000), (50, 0.45, 3500), (80, 0.3, 3000))
BARGE_IN_S = (6.0, 1.0)  # after the canceller converged, and while it still converges
CONVERGED_S = 3.0
NOISE_RMS = 5e-4  # room noise, about -66 dBFS

Process = Callable[[np.ndarray, np.ndarray], np.ndarray]


def room_echo(reference: np.ndarray, delay_ms: int, gain: float, cutoff_hz: int, seed: int):
    """The speaker as the mic hears it: delayed, attenuated, low-passed, plus room noise."""
    from scipy.signal import butter, lfilter

    b, a = butter(2, cutoff_hz, fs=RATE)
    delay = RATE * delay_ms // 1000
    shaped = gain * lfilter(b, a, reference)[: len(reference) - delay]
    noise = np.random.default_rng(seed).normal(0.0, NOISE_RMS, len(reference))
    return (np.concatenate([np.zeros(delay), shaped]) + noise).astype(np.float32)


def blockwise(canceller: object) -> Process:
    """Runs one of our EchoCancellers over a whole signal in 512-sample blocks, as the app would."""

    def run(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        canceller.reset()
        out = [
            canceller.process(mic[i : i + VAD_FRAME], ref[i : i + VAD_FRAME])
            for i in range(0, len(mic), VAD_FRAME)
        ]
        return np.concatenate(out)

    return run


def _int16(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 32768, -32768, 32767).astype(np.int16)


def speexdsp_aec_package() -> Process:
    """`speexdsp-aec` 0.1.0 as shipped: linear Speex filter only (10 ms frames, 200 ms tail)."""
    from speexdsp_aec import SpeexAec

    def run(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        aec = SpeexAec(sample_rate=RATE, frame_ms=10, filter_tail_ms=200)
        out = np.frombuffer(aec.process(_int16(mic), _int16(ref)), np.int16) / 32768
        return np.pad(out, (0, len(mic) - len(out))).astype(np.float32)

    return run


def pyaec_package() -> Process:
    """`pyaec` 1.0.1: its own speexdsp build with the preprocessor (suppressor + denoiser)."""
    import pyaec

    def run(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        aec = pyaec.Aec(160, 3200, RATE, True)
        m, r = _int16(mic), _int16(ref)
        out = np.zeros(len(mic), np.float32)
        for i in range(0, len(m) - 159, 160):
            frame = aec.cancel_echo(m[i : i + 160].tolist(), r[i : i + 160].tolist())
            out[i : i + 160] = np.array(frame, np.float32) / 32768
        return out

    return run


def candidates() -> dict[str, Process | str]:
    """Name -> processing function, or the reason it is skipped."""
    from assistant_app.core.errors import ModelUnavailable
    from audio.echo import PassthroughEchoCanceller, SpeexEchoCanceller, WebRtcEchoCanceller

    found: dict[str, Process | str] = {"none": blockwise(PassthroughEchoCanceller())}
    makers = {
        "webrtc (aec-audio-processing)": lambda: blockwise(WebRtcEchoCanceller()),
        "speex (ours: libspeexdsp1)": lambda: blockwise(SpeexEchoCanceller()),
        "speexdsp-aec": speexdsp_aec_package,
        "pyaec": pyaec_package,
    }
    for name, make in makers.items():
        try:
            found[name] = make()
        except (ImportError, OSError, RuntimeError, ModelUnavailable) as exc:
            found[name] = f"skipped: {exc}"
    return found


def vad_probabilities(vad, audio: np.ndarray) -> np.ndarray:
    vad.reset()
    n = len(audio) // VAD_FRAME
    return np.array([vad.speech_probability(f) for f in audio[: n * VAD_FRAME].reshape(n, -1)])


def gate_mask(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per VAD frame: does ResidualEchoGate let it count as speech?"""
    from audio.echo import ResidualEchoGate

    gate = ResidualEchoGate()
    n = len(out) // VAD_FRAME
    frames = (slice(i * VAD_FRAME, (i + 1) * VAD_FRAME) for i in range(n))
    return np.array([gate.admits(out[s], ref[s]) for s in frames])


def erle_db(mic: np.ndarray, out: np.ndarray) -> float:
    """Echo return loss enhancement over the echo-only signal once converged."""
    s = int(CONVERGED_S * RATE)
    return float(10 * np.log10(np.sum(mic[s:] ** 2) / (np.sum(out[s:] ** 2) + 1e-12)))


def measure(process: Process, far: np.ndarray, user: np.ndarray, vad, room, stt) -> list:
    """One table row: ERLE, cost, echo frames the VAD takes for speech, user frames it keeps."""
    echo = room_echo(far, *room, seed=room[0])
    start = time.perf_counter()
    out = process(echo, far)
    us_per_10ms = (time.perf_counter() - start) / (len(far) / 160) * 1e6
    speech = vad_probabilities(vad, out) > 0.5
    gated = speech & gate_mask(out, far)
    row = [round(erle_db(echo, out), 1), round(us_per_10ms), f"{speech.sum()} ({gated.sum()})"]
    transcript = ""
    for barge_in_s in BARGE_IN_S:
        at = int(barge_in_s * RATE)
        clean = np.zeros_like(far)
        clean[at : at + len(user)] = user[: len(far) - at]
        voiced = vad_probabilities(vad, clean) > 0.5
        out = process(echo + clean, far)
        heard = vad_probabilities(vad, out) > 0.5
        gated = heard & gate_mask(out, far)
        row.append(f"{heard[voiced].mean():.2f} ({gated[voiced].mean():.2f})")
        if stt is not None and barge_in_s == BARGE_IN_S[0]:
            transcript = stt.transcribe(out[at - RATE // 2 : at + len(user) + RATE // 2]).text
    return [*row, transcript]


def main(argv: list[str] | None = None) -> None:
    """Makes the signals, runs every candidate in every room, prints one Markdown table."""
    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.config import load_config
    from audio.tts import create_text_to_speech
    from audio.vad import create_voice_activity_detector
    from audio.wav import read_audio, resample
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-stt", action="store_true", help="skip transcribing the barge-in")
    args = parser.parse_args(argv)
    config = load_config()
    store = open_store(config)
    tts = create_text_to_speech(config.tts, store)
    chunks = list(tts.synthesize(ASSISTANT_TEXT, CancelToken.never()))
    far = resample(np.concatenate(chunks), tts.sample_rate_hz, RATE)
    user = read_audio(REPO_ROOT / "tests" / "fixtures" / "capital_of_france.wav")
    vad = create_voice_activity_detector(config.vad, store)
    stt = None
    if not args.no_stt:
        from audio.stt import create_speech_to_text

        stt = create_speech_to_text(config.stt, store)

    print(machine_line())
    print(
        f"assistant: hibari {len(far) / RATE:.1f} s, rms {np.sqrt(np.mean(far**2)):.3f}; user: "
        f"capital_of_france.wav ({USER_TEXT!r}) {len(user) / RATE:.1f} s, rms "
        f"{np.sqrt(np.mean(user**2)):.3f}; echo = delayed, x gain, 2nd-order low-pass + noise.\n"
        f"ERLE after {CONVERGED_S:.0f} s. VAD = Silero frames (32 ms) > 0.5; (n) = with "
        "ResidualEchoGate. User = share of the user's voiced frames still > 0.5.\n"
    )
    headers = [
        "canceller",
        "delay ms / gain / low-pass",
        "ERLE dB",
        "µs per 10 ms",
        "echo-only VAD frames (gated)",
        f"user @{BARGE_IN_S[0]:.0f} s (gated)",
        f"user @{BARGE_IN_S[1]:.0f} s (gated)",
        f"STT of barge-in @{BARGE_IN_S[0]:.0f} s",
    ]
    rows, skipped, costs = [], [], {}
    for name, process in candidates().items():
        if isinstance(process, str):
            skipped.append(f"{name}: {process}")
            continue
        for room in ROOMS:
            row = measure(process, far, user, vad, room, stt)
            costs.setdefault(name, []).append(row[1])
            rows.append([name, f"{room[0]} / {room[1]} / {room[2]}", *row])
    print_table(headers, rows)
    for name, values in costs.items():
        print(f"{name}: median {median(values):.0f} µs per 10 ms frame")
    for line in skipped:
        print(line)


if __name__ == "__main__":
    main()
