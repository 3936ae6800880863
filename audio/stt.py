"""Speech-to-text engines: faster-whisper (default) and openai-whisper (the specified package)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from assistant_app.core.config import SttConfig
from assistant_app.core.errors import ConfigError, ModelUnavailable
from assistant_app.core.messages import Segment, Transcript
from audio.hearing import spoken_language
from models.store import ModelStore

log = logging.getLogger(__name__)


class FasterWhisperSpeechToText:
    """CTranslate2 Whisper, int8 on the CPU."""

    name = "faster-whisper"
    sample_rate_hz = 16000

    def __init__(
        self, model_dir: Path, *, threads: int = 2, beam_size: int = 5, language: str = ""
    ) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads
        )
        self._beam_size = beam_size
        self._language = language or None
        if not self._model.model.is_multilingual:
            self._language = "en"

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, prompt: str = ""
    ) -> Transcript:
        segments, info = self._model.transcribe(
            audio,
            language=language or self._language,
            beam_size=self._beam_size,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=prompt or None,
        )
        found = tuple(
            Segment(s.start, s.end, s.text.strip(), s.no_speech_prob, s.avg_logprob)
            for s in segments
        )
        return Transcript(" ".join(s.text for s in found).strip(), info.language, found)


class OpenAIWhisperSpeechToText:
    """The reference openai-whisper package on torch, from a converted `.pt` checkpoint."""

    name = "openai-whisper"
    sample_rate_hz = 16000

    def __init__(
        self, checkpoint: Path, *, threads: int = 1, beam_size: int = 5, language: str = ""
    ) -> None:
        import torch
        import whisper

        torch.set_num_threads(threads)
        self._model = whisper.load_model(str(checkpoint), device="cpu")
        self._beam_size = beam_size
        self._language = language or None
        if not self._model.is_multilingual:
            self._language = "en"

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, prompt: str = ""
    ) -> Transcript:
        result = self._model.transcribe(
            audio.astype(np.float32),
            language=language or self._language,
            initial_prompt=prompt or None,
            fp16=False,
            beam_size=self._beam_size if self._beam_size > 1 else None,
            condition_on_previous_text=False,
            verbose=None,
        )
        found = tuple(
            Segment(s["start"], s["end"], s["text"].strip(), s["no_speech_prob"], s["avg_logprob"])
            for s in result["segments"]
        )
        return Transcript(" ".join(s.text for s in found).strip(), result["language"], found)


def openai_checkpoint(store: ModelStore, model: str) -> Path:
    """The `.pt` for openai-whisper, converted once from the verified CTranslate2 model."""
    from models.whisper_convert import convert_ct2_to_openai

    ct2_dir = store.path(model)
    out = store.root / "converted" / f"{model}.openai.pt"
    stamp = out.with_suffix(".source")
    source = (ct2_dir / "model.bin").stat()
    want = f"{source.st_size}:{source.st_mtime_ns}"
    if not out.is_file() or not stamp.is_file() or stamp.read_text() != want:
        log.info("converting %s to an openai-whisper checkpoint (once)", model)
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_ct2_to_openai(ct2_dir, out)
        stamp.write_text(want)
    return out


def import_backend(config: SttConfig) -> None:
    """Imports the engine's native library now (the app does this on its GUI thread at
    start-up); a missing one is reported by create_speech_to_text, with the fix."""
    try:
        if config.engine == "faster-whisper":
            import faster_whisper  # noqa: F401
    except ImportError:
        pass


def create_speech_to_text(config: SttConfig, store: ModelStore):  # noqa: ANN201
    """The STT engine named in the config, on its verified model."""
    try:
        if config.engine == "faster-whisper":
            return FasterWhisperSpeechToText(
                store.path(config.model),
                threads=config.threads,
                beam_size=config.beam_size,
                language=spoken_language(config.language) or "",
            )
        if config.engine == "openai-whisper":
            return OpenAIWhisperSpeechToText(
                openai_checkpoint(store, config.model),
                threads=1,
                beam_size=config.beam_size,
                language=spoken_language(config.language) or "",
            )
    except ImportError as exc:
        raise ModelUnavailable(
            config.model,
            f"the {config.engine} package is missing ({exc})",
            fix="run scripts/setup to install it.",
        ) from None
    raise ConfigError(
        f"[stt] engine '{config.engine}' is not known. Valid engines: faster-whisper, "
        "openai-whisper."
    )
