"""Text-to-speech engines: hibari (natural, default) and espeak-ng (robotic last resort)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import TtsConfig
from assistant_app.core.errors import ConfigError, ModelUnavailable
from audio.vad import sleeping_options
from models.store import ModelStore


class HibariTextToSpeech:
    """Hibari ONNX voice; yields one chunk per sentence as soon as it is synthesized."""

    name = "hibari"
    sample_rate_hz = 24000

    def __init__(
        self, model_path: str, *, voice: str = "heart", speaking_rate: float = 1.0, threads: int = 1
    ) -> None:
        import hibari

        self._tts = hibari.Hibari(
            voice=voice, model=model_path, threads=threads, g2p=_G2P.get(_british(voice))
        )
        self._rate = speaking_rate
        self.sample_rate_hz = hibari.SAMPLE_RATE
        # The first call after loading is ~10x slower than the rest: pay it now, not on turn one.
        self._tts("Hi.", speed=speaking_rate, seed=0)

    def synthesize(self, text: str, cancel: CancelToken) -> Iterator[np.ndarray]:
        for phonemes in self._tts.phonemize(text):
            if cancel.cancelled:
                return
            yield self._tts.from_ids(self._tts.ids(phonemes), self._rate)


class PiperTextToSpeech:
    """A Piper voice (ONNX); yields one chunk per sentence."""

    name = "piper"

    def __init__(self, model_path: str, *, speaking_rate: float = 1.0) -> None:
        import onnxruntime as ort
        from piper import PiperVoice
        from piper.config import PiperConfig, SynthesisConfig

        # Sleeping, its idle workers leave the cores to the chat model writing the next sentence.
        options = sleeping_options()
        config = json.loads(Path(f"{model_path}.json").read_text(encoding="utf-8"))
        self._voice = PiperVoice(
            session=ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"]),
            config=PiperConfig.from_dict(config),
        )
        self.sample_rate_hz = self._voice.config.sample_rate
        self._config = SynthesisConfig(length_scale=1.0 / speaking_rate)

    def synthesize(self, text: str, cancel: CancelToken) -> Iterator[np.ndarray]:
        for chunk in self._voice.synthesize(text, self._config):
            if cancel.cancelled:
                return
            yield chunk.audio_float_array.astype(np.float32)


class EspeakTextToSpeech:
    """espeak-ng through its command line; always available where the Debian package is."""

    name = "espeak-ng"
    sample_rate_hz = 22050

    def __init__(self, *, voice: str = "en-us", speaking_rate: float = 1.0) -> None:
        self._exe = shutil.which("espeak-ng")
        if self._exe is None:
            raise ModelUnavailable(
                "espeak-ng",
                "the espeak-ng program is not installed",
                fix="`sudo apt-get install espeak-ng` (macOS: `brew install espeak-ng`).",
            )
        self._voice = voice if voice != "heart" else "en-us"
        self._wpm = str(int(175 * speaking_rate))

    def synthesize(self, text: str, cancel: CancelToken) -> Iterator[np.ndarray]:
        import soundfile as sf

        if cancel.cancelled or not text.strip():
            return
        wav = subprocess.run(
            [self._exe, "-v", self._voice, "-s", self._wpm, "--stdout", text],
            capture_output=True,
            check=True,
        ).stdout
        audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
        self.sample_rate_hz = rate
        yield audio


def import_backend(config: TtsConfig) -> None:
    """Imports the engine's native library now (the app does this on its GUI thread at
    start-up); a missing one is reported by create_text_to_speech, with the fix."""
    try:
        if config.engine == "hibari":
            # Its pronunciation lexicons load in one json call that holds the GIL for ~0.2 s:
            # here, not in the worker that loads the voice while the window is in use.
            from hibari.g2p import G2P

            british = _british(config.voice)
            if british is not None and british not in _G2P:
                _G2P[british] = G2P(british=british)
        elif config.engine == "piper":
            import piper  # noqa: F401
    except ImportError:
        pass


_G2P: dict[bool, object] = {}  # hibari's phonemizers, by British or American English


def _british(voice: str) -> bool | None:
    from hibari.tts import VOICES

    return VOICES[voice]["british"] if voice in VOICES else None


def create_text_to_speech(config: TtsConfig, store: ModelStore):  # noqa: ANN201
    """The TTS engine named in the config, on its verified model."""
    if config.engine == "hibari":
        try:
            return HibariTextToSpeech(
                str(store.file_path("hibari-heart")),
                voice=config.voice,
                speaking_rate=config.speaking_rate,
                threads=config.threads,
            )
        except ImportError as exc:
            raise ModelUnavailable(
                "hibari-heart",
                f"the hibari-tts package is missing ({exc})",
                fix="run scripts/setup to install it.",
            ) from None
    if config.engine == "piper":
        try:
            path = store.path("piper-joe-medium") / "en_US-joe-medium.onnx"
            return PiperTextToSpeech(str(path), speaking_rate=config.speaking_rate)
        except ImportError as exc:
            raise ModelUnavailable(
                "piper-joe-medium",
                f"the piper-tts package is missing ({exc})",
                fix="`.venv/bin/pip install piper-tts==1.8.0` (GPL-3.0).",
            ) from None
    if config.engine == "espeak-ng":
        return EspeakTextToSpeech(voice=config.voice, speaking_rate=config.speaking_rate)
    raise ConfigError(
        f"[tts] engine '{config.engine}' is not known. Valid engines: hibari, piper, espeak-ng."
    )
