"""Fresh clips for bench/ears.py: assistant requests written from a seed, spoken by many voices,
then degraded (noise, reverb, telephone band, a quiet microphone, long silences), plus clips
with no speech at all. Everything here is made at run time; nothing is a fixture."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
NAMES = ["Priya", "Marcus", "Ingrid", "Tomás", "Keiko", "Oliver", "Fatima", "Declan", "Rosa"]
CITIES = ["Lisbon", "Denver", "Osaka", "Nairobi", "Glasgow", "Toronto", "Perth", "Bergen"]
THINGS = ["garden", "kitchen", "travel", "marketing", "school", "wedding", "holiday", "server"]
ANIMALS = ["fox", "owl", "turtle", "rabbit", "whale", "tiger", "penguin", "horse"]
UNITS = [("miles", "kilometres"), ("pounds", "kilograms"), ("inches", "centimetres"),
         ("litres", "gallons"), ("feet", "metres")]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

TEMPLATES: list[Callable[[random.Random], str]] = [
    lambda r: f"What is {r.randint(12, 99)} times {r.randint(3, 40)}?",
    lambda r: f"What's {r.choice([5, 10, 15, 20, 25, 40])} percent of {r.randint(60, 900)}?",
    lambda r: "Convert {} {} to {}.".format(r.randint(2, 300), *r.choice(UNITS)),
    lambda r: f"Remind me to call {r.choice(NAMES)} at {r.randint(1, 11)} on {r.choice(DAYS)}.",
    lambda r: f"Search my notes for the {r.choice(THINGS)} budget.",
    lambda r: f"Plot the sine of x from zero to {r.randint(2, 20)}.",
    lambda r: f"How far is {r.choice(CITIES)} from {r.choice(CITIES)}?",
    lambda r: f"Draw me a picture of a {r.choice(ANIMALS)} reading a book in the rain.",
    lambda r: (
        f"Think carefully. A train travels {r.randint(50, 400)} miles in {r.randint(2, 6)} "
        "hours. What is its average speed?"
    ),
    lambda r: f"Tell me a short story about a {r.choice(ANIMALS)} who lives in {r.choice(CITIES)}.",
    lambda r: f"What did {r.choice(NAMES)} say about the {r.choice(THINGS)} plan last week?",
    lambda r: (
        f"Add {r.randint(100, 999)} and {r.randint(100, 999)}, then divide by {r.randint(2, 9)}."
    ),
    lambda r: "What is the capital of Australia?",
    lambda r: f"Set a timer for {r.randint(2, 45)} minutes and tell me when it ends.",
    lambda r: f"Summarise the {r.choice(THINGS)} notes in three sentences.",
    lambda r: (
        f"Use python to find the average of {r.randint(10, 99)}, {r.randint(10, 99)} "
        f"and {r.randint(10, 99)}."
    ),
]
CONDITIONS = ("clean", "white noise", "pink noise", "reverb", "telephone", "quiet", "silences")


@dataclass
class Clip:
    """A 16 kHz mono clip, what it says ("" for none), who said it and how it was spoiled."""

    name: str
    text: str
    voice: str
    condition: str
    audio: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE


# -- voices ---------------------------------------------------------------------------------------
ESPEAK = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-us+f3", "en+m3", "en-gb-x-rp+f2",
          "en-us-nyc+klatt")  # fmt: skip


def voices(config, store) -> list[tuple[str, Callable[[str, int], np.ndarray]]]:  # noqa: ANN001
    """(name, speak(text, words_per_minute)) for every voice available here."""
    from assistant_app.core.cancel import CancelToken
    from audio.tts import create_text_to_speech
    from audio.wav import resample

    found = []
    for engine in ("hibari", "piper"):
        try:
            tts = create_text_to_speech(config.replace("tts", engine=engine).tts, store)
        except Exception:  # noqa: BLE001 - a voice that is not installed is skipped
            continue

        def speak(text: str, wpm: int, tts=tts) -> np.ndarray:  # noqa: ANN001
            tts._rate = wpm / 165  # hibari; piper's rate is its length scale  # noqa: SLF001
            if hasattr(tts, "_config"):
                tts._config.length_scale = 165 / wpm  # noqa: SLF001
            chunks = list(tts.synthesize(text, CancelToken.never()))
            return resample(np.concatenate(chunks), tts.sample_rate_hz, RATE)

        found.append((engine, speak))
    if shutil.which("espeak-ng"):
        found += [(f"espeak {v}", _espeak(v)) for v in ESPEAK]
    return found


def _espeak(voice: str) -> Callable[[str, int], np.ndarray]:
    from audio.wav import read_audio

    def speak(text: str, wpm: int) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "s.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True
            )
            return read_audio(path)

    return speak


# -- spoiling -------------------------------------------------------------------------------------
def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise, unit RMS."""
    spectrum = np.fft.rfft(rng.normal(size=n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    out = np.fft.irfft(spectrum, n)
    return out / (np.sqrt(np.mean(out**2)) or 1.0)


def at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    power = float(np.mean(speech**2)) or 1e-9
    return speech + noise * np.sqrt(power / 10 ** (snr_db / 10))


def reverb(audio: np.ndarray, rt60: float, drr_db: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room: the direct sound, then exponentially decaying noise whose energy is
    `drr_db` below it (a talker a metre or two from the microphone)."""
    from scipy.signal import fftconvolve

    t = np.arange(1, int(rt60 * RATE)) / RATE
    tail = rng.normal(size=len(t)) * np.exp(-6.9 * t / rt60)
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    ir = np.concatenate([[1.0], tail])
    wet = fftconvolve(audio, ir)[: len(audio)]
    return wet * (np.max(np.abs(audio)) / (np.max(np.abs(wet)) or 1.0))


def telephone(audio: np.ndarray) -> np.ndarray:
    """300-3400 Hz, through 8 kHz and 8-bit mu-law, as a phone line or a cheap headset."""
    from scipy.signal import butter, resample_poly, sosfilt

    sos = butter(4, [300, 3400], btype="band", fs=RATE, output="sos")
    narrow = resample_poly(sosfilt(sos, audio), 1, 2)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.minimum(np.abs(narrow), 1.0)) / np.log1p(mu)
    coded = np.round(coded * 127) / 127
    decoded = np.sign(coded) * ((1 + mu) ** np.abs(coded) - 1) / mu
    return resample_poly(decoded, 2, 1)


def peak_dbfs(audio: np.ndarray, db: float) -> np.ndarray:
    return audio * (10 ** (db / 20) / (np.max(np.abs(audio)) or 1.0))


def spoil(audio: np.ndarray, condition: str, rng: random.Random) -> tuple[np.ndarray, str]:
    """The clip under `condition`, and the condition with its drawn strength."""
    g = np.random.default_rng(rng.randrange(2**32))
    audio = peak_dbfs(audio, rng.uniform(-6, -2))
    if condition in ("white noise", "pink noise"):
        snr = rng.uniform(15, 25)
        noise = g.normal(size=len(audio)) if condition == "white noise" else pink(len(audio), g)
        return at_snr(audio, noise, snr), f"{condition} {snr:.0f} dB"
    if condition == "reverb":
        rt60, drr = rng.uniform(0.3, 0.7), rng.uniform(0, 8)
        return reverb(audio, rt60, drr, g), f"reverb {rt60:.1f} s {drr:.0f} dB"
    if condition == "telephone":
        return telephone(audio), condition
    if condition == "quiet":
        db = rng.uniform(-35, -25)
        floor = g.normal(size=len(audio)) * 10 ** (-70 / 20)
        return peak_dbfs(audio, db) + floor, f"quiet {db:.0f} dBFS"
    if condition == "silences":
        lead, tail = rng.uniform(1, 4), rng.uniform(1, 4)
        pad = [np.zeros(int(s * RATE)) for s in (lead, tail)]
        out = np.concatenate([pad[0], audio, pad[1]])
        return out + g.normal(size=len(out)) * 10 ** (-60 / 20), f"silence {lead:.0f}+{tail:.0f} s"
    return audio, condition


NOISES = ("silence", "noise floor", "white noise", "pink noise", "fan", "hum", "clicks")


def noise(kind: str, length: int, g: np.random.Generator) -> np.ndarray:
    """`length` samples of one of NOISES."""
    t = np.arange(length) / RATE
    if kind == "noise floor":
        return g.normal(size=length) * 10 ** (-55 / 20)
    if kind == "white noise":
        return g.normal(size=length) * 0.05
    if kind == "pink noise":
        return pink(length, g) * 0.08
    if kind == "fan":  # a brown rumble
        out = np.cumsum(g.normal(size=length))
        return (out - np.linspace(out[0], out[-1], length)) * 0.002
    if kind == "hum":
        return 0.05 * np.sin(2 * np.pi * 50 * t) + 0.02 * np.sin(2 * np.pi * 100 * t)
    if kind == "clicks":
        return (g.random(length) > 0.9995) * g.uniform(-0.5, 0.5, length)
    return np.zeros(length)


def speech_free(n: int, rng: random.Random) -> list[Clip]:
    """Clips with no words: digital silence, a noise floor, hiss, fan rumble, hum, clicks."""
    g = np.random.default_rng(rng.randrange(2**32))
    clips = []
    for i in range(n):
        kind = NOISES[i % len(NOISES)]
        audio = noise(kind, int(rng.uniform(1.5, 6) * RATE), g)
        clips.append(
            Clip(f"none{i:02d}", "", "-", kind, (audio - np.mean(audio)).astype(np.float32))
        )
    return clips


# -- a front end measured (not used by the app: it did not lower the error rate) ----------------
def levelled(audio: np.ndarray) -> np.ndarray:
    """Scaled so its loud parts (the 99.9th percentile, not one click) peak at -3 dBFS, with
    at most +40 dB of gain."""
    peak = float(np.percentile(np.abs(audio), 99.9)) if audio.size else 0.0
    if peak <= 0:
        return audio
    gain = min(10 ** (-3 / 20) / peak, 100.0)
    return np.clip(audio * gain, -1.0, 1.0).astype(np.float32)


def make_clips(seed: int, speech: int, silent: int, config, store) -> list[Clip]:  # noqa: ANN001
    """`speech` spoken requests (voices and conditions in turn), `silent` clips of no speech."""
    rng = random.Random(seed)
    spoken = voices(config, store)
    clips = []
    for i in range(speech):
        text = rng.choice(TEMPLATES)(rng)
        name, speak = spoken[i % len(spoken)]
        wpm = rng.randint(130, 200)
        audio, condition = spoil(speak(text, wpm), CONDITIONS[i % len(CONDITIONS)], rng)
        clips.append(
            Clip(f"s{i:02d}", text, f"{name} {wpm}wpm", condition, audio.astype(np.float32))
        )
    return clips + speech_free(silent, rng)
