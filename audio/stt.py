"""Speech-to-text engines: faster-whisper (default), openai-whisper (the specified package) and
Moonshine (audio/moonshine.py, English only)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant_app.core.config import SttConfig, VadConfig
from assistant_app.core.errors import ConfigError, ModelUnavailable, UnknownModel
from assistant_app.core.messages import Segment, Transcript
from audio.hearing import spoken_language
from audio.vad import create_voice_activity_detector
from models.catalog import find
from models.store import ModelStore

log = logging.getLogger(__name__)

MOONSHINE = "moonshine"  # the engine of Moonshine models (models/catalog.py)
OTHER_LANGUAGES = "whisper-base"  # what hears a language other than English for Moonshine


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


def _converted_once(
    out: Path,
    stamp: Path,
    sources: list[Path],
    convert: Callable[[], None],
    say: Callable[[str], None] = log.info,
) -> Path:
    """`out`, made by `convert` unless it was made from these very source files; `say`
    hears a line when it is."""
    want = ":".join(f"{s.stat().st_size}:{s.stat().st_mtime_ns}" for s in sources)
    if not out.exists() or not stamp.is_file() or stamp.read_text() != want:
        say(f"converting {out.name} for this CPU (once)")
        out.parent.mkdir(parents=True, exist_ok=True)
        convert()
        stamp.write_text(want)
    return out


def openai_checkpoint(store: ModelStore, model: str) -> Path:
    """The `.pt` for openai-whisper, converted once from the verified CTranslate2 model."""
    from models.whisper_convert import convert_ct2_to_openai

    ct2_dir = store.path(model)
    out = store.root / "converted" / f"{model}.openai.pt"
    return _converted_once(
        out,
        out.with_suffix(".source"),
        [ct2_dir / "model.bin"],
        lambda: convert_ct2_to_openai(ct2_dir, out),
    )


def moonshine_graphs(
    store: ModelStore, model: str, threads: int = 2, say: Callable[[str], None] = log.info
) -> Path:
    """The folder of Moonshine graphs for this CPU, converted once from the verified files
    (about a minute; the conversion needs the `onnx` package)."""
    from models.moonshine_convert import FORMAT, SOURCES, convert_moonshine

    source = store.path(model)
    out = store.root / "converted" / f"{model}.{FORMAT}"
    try:
        return _converted_once(
            out,
            out.with_suffix(".source"),
            [source / name for name in SOURCES],
            lambda: convert_moonshine(source, out, threads),
            say,
        )
    except ImportError as exc:
        raise ModelUnavailable(
            model,
            f"converting it needs a package that is missing ({exc})",
            fix="run scripts/setup to install it.",
        ) from None


def engine_of(config: SttConfig) -> str:
    """What runs the configured model: Moonshine models their own engine, Whisper models the
    [stt] engine (faster-whisper or openai-whisper)."""
    try:
        entry = find(config.model)
    except UnknownModel:
        return config.engine
    return entry.engine if entry.engine == MOONSHINE else config.engine


def import_backend(config: SttConfig) -> None:
    """Imports the engine's native library now (the app does this on its GUI thread at
    start-up); a missing one is reported by create_speech_to_text, with the fix."""
    engine = engine_of(config)
    try:
        if engine == "faster-whisper":
            import faster_whisper  # noqa: F401
        elif engine == MOONSHINE:
            import onnxruntime  # noqa: F401
    except ImportError:
        pass


def create_speech_to_text(config: SttConfig, store: ModelStore):  # noqa: ANN201
    """The STT engine for the configured model and language. Moonshine hears English only: for
    another language (or "auto") the [stt] engine runs Whisper base instead."""
    language = spoken_language(config.language) or ""
    engine = engine_of(config)
    if engine == MOONSHINE and language != "en":
        log.info(
            "%s hears English only; language %r uses %s", config.model, language, OTHER_LANGUAGES
        )
        config = dataclasses.replace(config, model=OTHER_LANGUAGES)
        engine = engine_of(config)
    try:
        if engine == MOONSHINE:
            from audio.moonshine import MoonshineSpeechToText

            return MoonshineSpeechToText(
                moonshine_graphs(store, config.model, config.threads),
                create_voice_activity_detector(VadConfig(), store),
                threads=config.threads,
                beam_size=config.beam_size,
            )
        if engine == "faster-whisper":
            return FasterWhisperSpeechToText(
                store.path(config.model),
                threads=config.threads,
                beam_size=config.beam_size,
                language=language,
            )
        if engine == "openai-whisper":
            return OpenAIWhisperSpeechToText(
                openai_checkpoint(store, config.model),
                threads=1,
                beam_size=config.beam_size,
                language=language,
            )
    except ImportError as exc:
        raise ModelUnavailable(
            config.model,
            f"a package {engine} needs is missing ({exc})",
            fix="run scripts/setup to install it.",
        ) from None
    raise ConfigError(
        f"[stt] engine '{config.engine}' is not known. Valid engines: faster-whisper, "
        "openai-whisper."
    )
