"""Voice activity detection: Silero VAD run with onnxruntime (no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from assistant_app.core.config import VadConfig
from assistant_app.core.errors import ConfigError
from models.store import ModelStore

if TYPE_CHECKING:
    import onnxruntime as ort

CONTEXT_SAMPLES = 64  # Silero v5+ sees the tail of the previous frame in front of each frame


def sleeping_options() -> ort.SessionOptions:
    """onnxruntime session options whose idle worker threads sleep, not spin. Spinning, they kept
    both cores busy after each call: the end-of-turn judge run after Moonshine took twice as
    long, and the chat model wrote 2.9-3.3 tokens a second beside Piper instead of 4.9-5.7
    (bench/spinning.py, docs/BENCHMARKS.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class SileroVoiceActivityDetector:
    """Speech probability per 32 ms frame (512 samples at 16 kHz), stateful across frames."""

    name = "silero"
    frame_samples = 512

    def __init__(self, model_path: str, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            model_path, options, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(16000, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget the recurrent state, e.g. between files or after a long pause."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT_SAMPLES), dtype=np.float32)

    def speech_probability(self, frame: np.ndarray) -> float:
        if frame.shape[-1] != self.frame_samples:
            raise ValueError(f"Silero needs frames of {self.frame_samples} samples at 16 kHz")
        x = np.concatenate([self._context, frame.reshape(1, -1).astype(np.float32)], axis=1)
        prob, self._state = self._session.run(
            None, {"input": x, "state": self._state, "sr": self._sr}
        )
        self._context = x[:, -CONTEXT_SAMPLES:]
        return float(prob[0][0])

    def speech_ratio(self, audio: np.ndarray, threshold: float = 0.5) -> float:
        """Fraction of whole frames in `audio` that count as speech (a cheap gate for files)."""
        hits = self._speech_frames(audio, threshold)
        return len(hits) / max(1, len(audio) // self.frame_samples) if len(audio) else 0.0

    def speech_only(
        self, audio: np.ndarray, threshold: float = 0.5, margin_s: float = 0.3
    ) -> np.ndarray:
        """`audio` without the silence before its first speech and after its last (with a
        margin); all of it when no frame is speech."""
        hits = self._speech_frames(audio, threshold)
        if not hits:
            return audio
        margin = int(margin_s * 16000)
        return audio[
            max(0, hits[0] * self.frame_samples - margin) : (hits[-1] + 1) * self.frame_samples
            + margin
        ]

    def _speech_frames(self, audio: np.ndarray, threshold: float) -> list[int]:
        """The indices of the whole frames of `audio` that count as speech, from a fresh state."""
        n = len(audio) // self.frame_samples
        self.reset()
        frames = audio[: n * self.frame_samples].reshape(n, self.frame_samples)
        hits = [i for i, f in enumerate(frames) if self.speech_probability(f) >= threshold]
        self.reset()
        return hits


def create_voice_activity_detector(
    config: VadConfig, store: ModelStore
) -> SileroVoiceActivityDetector:
    """The VAD named in the config."""
    if config.engine != "silero":
        raise ConfigError(f"[vad] engine '{config.engine}' is not known. Valid engines: silero.")
    return SileroVoiceActivityDetector(str(store.file_path("silero-vad")))
