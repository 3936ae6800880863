"""Reading and writing audio files, with errors a user can act on."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from assistant_app.core.errors import UserVisibleError

MAX_SECONDS = 30 * 60


def read_audio(path: Path, sample_rate_hz: int = 16000) -> np.ndarray:
    """Mono float32 samples of `path` at `sample_rate_hz`; a bad file raises UserVisibleError."""
    if not path.is_file():
        raise UserVisibleError(f"{path}: no such file.")
    try:
        info = sf.info(str(path))
        if info.duration > MAX_SECONDS:
            raise UserVisibleError(
                f"{path} is {info.duration / 60:.0f} minutes long; the limit is "
                f"{MAX_SECONDS // 60} minutes. Cut it into shorter files."
            )
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UserVisibleError(
            f"{path} is not a readable audio file ({exc}). Use WAV, FLAC or OGG; to convert: "
            f"`sox input.mp3 output.wav` or `ffmpeg -i input.m4a output.wav`."
        ) from None
    if audio.size == 0:
        raise UserVisibleError(f"{path} contains no audio samples.")
    return resample(audio.mean(axis=1), rate, sample_rate_hz)


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32 in and out."""
    if from_hz == to_hz:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(from_hz, to_hz)
    return resample_poly(audio, to_hz // g, from_hz // g).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, sample_rate_hz: int) -> None:
    """Writes 16-bit PCM mono WAV, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(audio, -1.0, 1.0), sample_rate_hz, subtype="PCM_16")
