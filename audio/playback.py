"""The speaker side: a buffer of speech chunks read by the device, tracking what was heard."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant_app.core.messages import SpeechChunk

REFERENCE_HZ = 16000


@dataclass(frozen=True)
class Played:
    """Progress report: `samples` of `chunk` have reached the speaker; `finished` if all."""

    chunk: SpeechChunk
    samples: int
    finished: bool


class PlaybackBuffer:
    """Chunks queue up here; the device callback `read`s fixed-size blocks from it.

    Every block read is also kept, resampled to 16 kHz, as the echo canceller's reference:
    what the speaker is playing is what the microphone is about to hear.
    """

    def __init__(self, sample_rate_hz: int, on_played: Callable[[Played], None]) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._on_played = on_played
        self._chunks: deque[SpeechChunk] = deque()
        self._offset = 0
        self._lock = threading.Lock()
        self._reference: deque[np.ndarray] = deque()
        self._reference_len = 0
        self._idle = threading.Event()
        self._idle.set()

    @property
    def playing(self) -> bool:
        return not self._idle.is_set()

    def add(self, chunk: SpeechChunk) -> None:
        if len(chunk.audio) and chunk.sample_rate_hz != self.sample_rate_hz:
            chunk = _resampled(chunk, self.sample_rate_hz)
        with self._lock:
            self._chunks.append(chunk)
            self._idle.clear()

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` samples (silence when nothing is queued). Called by the device."""
        out = np.zeros(frames, np.float32)
        reports: list[Played] = []
        with self._lock:
            filled = 0
            while filled < frames and self._chunks:
                chunk = self._chunks[0]
                take = min(frames - filled, len(chunk.audio) - self._offset)
                out[filled : filled + take] = chunk.audio[self._offset : self._offset + take]
                filled += take
                self._offset += take
                done = self._offset >= len(chunk.audio)
                reports.append(Played(chunk, self._offset, done))
                if done:
                    self._chunks.popleft()
                    self._offset = 0
            if not self._chunks:
                self._idle.set()
            self._keep_reference(out)
        for report in reports:
            self._on_played(report)
        return out

    def stop(self) -> Played | None:
        """Drops everything queued at once; returns how far the interrupted chunk got."""
        with self._lock:
            partial = None
            if self._chunks and self._offset:
                partial = Played(self._chunks[0], self._offset, False)
            self._chunks.clear()
            self._offset = 0
            self._idle.set()
        return partial

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def reference(self, samples_16k: int) -> np.ndarray:
        """What was played, at 16 kHz, in step with the microphone blocks (zeros when silent)."""
        with self._lock:
            if self._reference_len < samples_16k:
                return np.zeros(samples_16k, np.float32)
            joined = np.concatenate(self._reference)
            out, rest = joined[:samples_16k], joined[samples_16k:]
            self._reference = deque([rest]) if len(rest) else deque()
            self._reference_len = len(rest)
        return out

    def _keep_reference(self, block: np.ndarray) -> None:
        if not block.any() and not self._reference_len:
            return
        resampled = _resample(block, self.sample_rate_hz, REFERENCE_HZ)
        self._reference.append(resampled)
        self._reference_len += len(resampled)
        limit = REFERENCE_HZ  # a second of reference is plenty; older echo is long gone
        while self._reference_len > limit and len(self._reference) > 1:
            self._reference_len -= len(self._reference.popleft())


def heard_text(played: Played) -> str:
    """The words of a chunk that were played: all of them, or a proportional prefix."""
    if played.finished:
        return played.chunk.text
    words = played.chunk.text.split()
    fraction = played.samples / max(1, len(played.chunk.audio))
    return " ".join(words[: int(len(words) * fraction)])


def _resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    if from_hz == to_hz:
        return audio.astype(np.float32, copy=False)
    n = max(1, round(len(audio) * to_hz / from_hz))
    positions = np.linspace(0, len(audio) - 1, n)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def _resampled(chunk: SpeechChunk, rate_hz: int) -> SpeechChunk:
    from audio.wav import resample

    return SpeechChunk(
        resample(chunk.audio, chunk.sample_rate_hz, rate_hz), rate_hz, chunk.text, chunk.turn
    )
