"""Acoustic echo cancellation: removes the assistant's own playback from the microphone signal."""

from __future__ import annotations

import ctypes
import ctypes.util
import weakref
from typing import Protocol

import numpy as np

from assistant_app.core.errors import ConfigError, ModelUnavailable

SAMPLE_RATE_HZ = 16000
CHOICES = ("webrtc", "speex", "none")


class EchoCanceller(Protocol):
    """Cleans 16 kHz mono float32 mic blocks, given what the speaker played for the same block."""

    name: str
    latency_samples: int  # the output lags the input by this much (constant, for alignment)
    needs_echo_gate: bool  # residual echo can fool the VAD: pair it with ResidualEchoGate

    def process(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """The mic block with the echo of `reference` removed; same length as `mic`."""

    def reset(self) -> None:
        """Forget the learned echo path, e.g. after the audio device changed."""


class PassthroughEchoCanceller:
    """No echo cancellation: for headsets, where the mic cannot hear the speaker."""

    name = "none"
    latency_samples = 0
    needs_echo_gate = False

    def process(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        _check_blocks(mic, reference)
        return np.asarray(mic, dtype=np.float32)

    def reset(self) -> None:
        """Nothing is learned."""


class _FramedEchoCanceller:
    """Feeds a fixed-frame native canceller from blocks of any size, output length = input."""

    needs_echo_gate = False
    frame_samples = 160  # 10 ms: what WebRTC requires and what Speex converged fastest with
    extra_latency_samples: int  # what the native canceller itself holds back

    def __init__(self) -> None:
        # One frame of input buffering lets callers pass any block size (e.g. 512 for the VAD).
        self.latency_samples = self.frame_samples + self.extra_latency_samples
        self.reset()

    def reset(self) -> None:
        self._open()
        self._mic = np.zeros(0, dtype=np.int16)
        self._ref = np.zeros(0, dtype=np.int16)
        self._out = np.zeros(self.frame_samples, dtype=np.int16)

    def process(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        _check_blocks(mic, reference)
        self._mic = np.concatenate([self._mic, _to_int16(mic)])
        self._ref = np.concatenate([self._ref, _to_int16(reference)])
        n = self.frame_samples
        whole = len(self._mic) // n * n
        if whole:
            frames = [
                self._run_frame(self._mic[i : i + n], self._ref[i : i + n])
                for i in range(0, whole, n)
            ]
            self._out = np.concatenate([self._out, *frames])
            self._mic, self._ref = self._mic[whole:], self._ref[whole:]
        result, self._out = self._out[: len(mic)], self._out[len(mic) :]
        return result.astype(np.float32) / 32768.0

    def _open(self) -> None: ...  # (re)creates the native state

    def _run_frame(self, near: np.ndarray, far: np.ndarray) -> np.ndarray: ...  # int16, 160


class WebRtcEchoCanceller(_FramedEchoCanceller):
    """WebRTC AEC3 (package aec-audio-processing), the default: it finds the delay itself and
    suppresses the residual; in bench/echo.py no echo frame reached the VAD, even unconverged."""

    name = "webrtc"
    extra_latency_samples = 128  # AEC3's own buffering, measured (the tests check it)

    def __init__(self) -> None:
        try:
            import aec_audio_processing
        except (ImportError, OSError):  # OSError: its bundled native library failed to load
            raise ModelUnavailable(
                "webrtc echo canceller",
                "the Python package aec-audio-processing is not installed",
                fix="`pip install --no-deps aec-audio-processing==1.0.1` (a source build of ~8"
                " min that needs g++), or use the echo canceller 'speex'.",
            ) from None
        self._module = aec_audio_processing
        super().__init__()

    def _open(self) -> None:
        # Noise suppression and gain control off: STT should hear the user unaltered. No delay
        # hint: AEC3 finds the 30-80 ms delay itself (a 50 ms hint changed nothing measured).
        apm = self._module.AudioProcessor(
            enable_aec=True, enable_ns=False, enable_agc=False, enable_vad=False
        )
        apm.set_stream_format(SAMPLE_RATE_HZ, 1)
        apm.set_reverse_stream_format(SAMPLE_RATE_HZ, 1)
        self._apm = apm

    def _run_frame(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        self._apm.process_reverse_stream(far.tobytes())
        return np.frombuffer(self._apm.process_stream(near.tobytes()), dtype=np.int16)


class SpeexEchoCanceller(_FramedEchoCanceller):
    """libspeexdsp's adaptive filter plus its residual echo suppressor, through ctypes.

    The fallback where WebRTC cannot be built. Used directly rather than through `speexdsp-aec`
    (declared proprietary, no residual suppressor) or `pyaec` (its own build, samples passed as
    Python lists). Let the VAD fire for ~1.5 s while converging, hence needs_echo_gate.
    """

    name = "speex"
    needs_echo_gate = True
    # 200 ms covers the 30-80 ms speaker-to-mic delay plus room reverberation; a 300 ms
    # filter converged more slowly and left more residual echo in the measurement.
    tail_samples = 3200
    extra_latency_samples = 160  # the residual suppressor holds back one frame

    def __init__(self, library: str | None = None) -> None:
        self._lib = _load_speexdsp(library)
        self._finalizer: weakref.finalize | None = None
        super().__init__()

    def _open(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        lib, n = self._lib, self.frame_samples
        self._echo = lib.speex_echo_state_init(n, self.tail_samples)
        self._pre = lib.speex_preprocess_state_init(n, SAMPLE_RATE_HZ)
        if not self._echo or not self._pre:
            raise MemoryError("libspeexdsp could not create its echo canceller state")
        self._finalizer = weakref.finalize(self, _destroy, lib, self._echo, self._pre)
        lib.speex_echo_ctl(self._echo, _ECHO_SET_SAMPLING_RATE, _int_ref(SAMPLE_RATE_HZ))
        # The residual echo suppressor runs inside the denoiser, so denoising must be on; its
        # noise attenuation is 0 dB so the user's voice reaches STT unaltered. Without the
        # suppressor the linear filter alone left VAD-triggering echo for 3-5 s of speech.
        lib.speex_preprocess_ctl(self._pre, _PRE_SET_ECHO_STATE, ctypes.c_void_p(self._echo))
        lib.speex_preprocess_ctl(self._pre, _PRE_SET_DENOISE, _int_ref(1))
        lib.speex_preprocess_ctl(self._pre, _PRE_SET_NOISE_SUPPRESS, _int_ref(0))

    def _run_frame(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        ptr = ctypes.POINTER(ctypes.c_int16)
        out = np.empty_like(near)
        out_ptr = out.ctypes.data_as(ptr)
        self._lib.speex_echo_cancellation(
            self._echo, near.ctypes.data_as(ptr), far.ctypes.data_as(ptr), out_ptr
        )
        self._lib.speex_preprocess_run(self._pre, out_ptr)
        return out


class ResidualEchoGate:
    """Decides whether a mic frame (after AEC) may count as speech while the assistant plays.

    Speex alone let the VAD fire for ~1.5 s while its filter converged on the first reply.
    The gate learns how loud the residual echo is relative to the reference (the upper
    envelope of residual/reference level, in dB) and admits a frame only if it is `margin_db`
    louder than that: a user talking over the assistant is, echo is not. Feed both every
    frame, as both keep state: `p, ok = vad.speech_probability(f), gate.admits(f, ref)`.
    """

    def __init__(
        self,
        *,
        margin_db: float = 6.0,
        prior_db: float = 0.0,
        decay_db_per_s: float = 10.0,
        creep_db_per_s: float = 3.0,
        lookback_ms: int = 200,
        silence_dbfs: float = -60.0,
    ) -> None:
        # 6 dB kept every echo frame out in the measurement and let the user's first syllable
        # through; 8-10 dB passed fewer user frames and stopped no more echo.
        self.margin_db = margin_db
        # Until learned, assume echo as loud as the reference, so an unconverged start is safe.
        self.prior_db = prior_db
        # Decay lets the envelope follow the canceller as it converges (~25 dB in 2-3 s).
        self.decay_db_per_s = decay_db_per_s
        # Creep slowly learns a louder echo path (volume turned up) that jumped above the
        # margin; faster creep learned a user talking over a long reply as echo instead.
        self.creep_db_per_s = creep_db_per_s
        # The window spans speaker-to-mic delay, reverberation and the canceller's latency.
        self.lookback_samples = SAMPLE_RATE_HZ * lookback_ms // 1000
        self.silence_dbfs = silence_dbfs
        self.reset()

    def reset(self) -> None:
        """Forget the learned echo level (with the canceller's reset)."""
        self.coupling_db = self.prior_db
        self._history = np.zeros(self.lookback_samples, dtype=np.float32)

    def admits(self, residual: np.ndarray, reference: np.ndarray) -> bool:
        """True if `residual` may be speech: nothing is playing, or it is louder than echo."""
        _check_blocks(residual, reference)
        keep = self.lookback_samples + len(reference)
        self._history = np.concatenate([self._history, reference])[-keep:]
        reference_db = _level_db(self._history)
        if reference_db < self.silence_dbfs:
            return True
        ratio_db = _level_db(residual) - reference_db
        seconds = len(residual) / SAMPLE_RATE_HZ
        if ratio_db > self.coupling_db + self.margin_db:
            self.coupling_db += self.creep_db_per_s * seconds
            return True
        self.coupling_db = max(ratio_db, self.coupling_db - self.decay_db_per_s * seconds)
        return False


def create_echo_canceller(name: str) -> EchoCanceller:
    """The echo canceller called `name`: 'webrtc' or 'speex' (loudspeakers), 'none' (headset)."""
    if name == "webrtc":
        return WebRtcEchoCanceller()
    if name == "speex":
        return SpeexEchoCanceller()
    if name == "none":
        return PassthroughEchoCanceller()
    raise ConfigError(
        f"Echo canceller '{name}' is not known. Valid choices: {', '.join(CHOICES)} "
        "('webrtc' or 'speex' for loudspeakers, 'none' for a headset)."
    )


# speex_echo.h / speex_preprocess.h request numbers; the C API has not changed since 2008.
_ECHO_SET_SAMPLING_RATE = 24
_PRE_SET_DENOISE = 0
_PRE_SET_NOISE_SUPPRESS = 18
_PRE_SET_ECHO_STATE = 24


def _load_speexdsp(library: str | None) -> ctypes.CDLL:
    names = [library] if library else ["libspeexdsp.so.1", ctypes.util.find_library("speexdsp")]
    for candidate in filter(None, names):
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        _declare(lib)
        return lib
    raise ModelUnavailable(
        "speex echo canceller",
        "the libspeexdsp shared library is not installed",
        looked_in=", ".join(filter(None, names)) or "the system library path",
        fix="`sudo apt-get install libspeexdsp1` (macOS: `brew install speexdsp`), or use "
        "the echo canceller 'none' with a headset.",
    )


def _declare(lib: ctypes.CDLL) -> None:
    ptr, void, c_int = ctypes.POINTER(ctypes.c_int16), ctypes.c_void_p, ctypes.c_int
    lib.speex_echo_state_init.restype = void
    lib.speex_echo_state_init.argtypes = [c_int, c_int]
    lib.speex_echo_ctl.argtypes = [void, c_int, void]
    lib.speex_echo_cancellation.argtypes = [void, ptr, ptr, ptr]
    lib.speex_echo_state_destroy.argtypes = [void]
    lib.speex_preprocess_state_init.restype = void
    lib.speex_preprocess_state_init.argtypes = [c_int, c_int]
    lib.speex_preprocess_ctl.argtypes = [void, c_int, void]
    lib.speex_preprocess_run.argtypes = [void, ptr]
    lib.speex_preprocess_state_destroy.argtypes = [void]


def _destroy(lib: ctypes.CDLL, echo: int, pre: int) -> None:
    lib.speex_preprocess_state_destroy(pre)
    lib.speex_echo_state_destroy(echo)


def _int_ref(value: int) -> object:
    return ctypes.byref(ctypes.c_int(value))


def _to_int16(block: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(block, dtype=np.float32) * 32768.0, -32768, 32767).astype(np.int16)


def _level_db(block: np.ndarray) -> float:
    return float(10.0 * np.log10(np.mean(np.square(block, dtype=np.float64)) + 1e-12))


def _check_blocks(mic: np.ndarray, reference: np.ndarray) -> None:
    if mic.ndim != 1 or mic.shape != reference.shape:
        raise ValueError(
            f"mic and reference must be mono blocks of one length: {mic.shape}, {reference.shape}"
        )
