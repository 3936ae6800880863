"""Loading a diffusers pipeline folder offline and quietly, with the tiny decoder if given."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant_app.core.errors import ModelUnavailable

log = logging.getLogger(__name__)


def load_pipelines(
    model_dir: Path, name: str, dtype: str, slicing: bool, decoder_dir: Path | None
) -> tuple[Any, Any, Any]:
    """torch, the text-to-image pipeline and an image-to-image one sharing its parts."""
    try:
        import diffusers  # noqa: F401
        import torch
    except ImportError as exc:
        raise ModelUnavailable(
            name, f"the diffusers package is missing ({exc})", fix="run scripts/setup."
        ) from None
    with _quiet_libraries():
        return _build(model_dir, name, getattr(torch, dtype), slicing, decoder_dir)


def _build(
    model_dir: Path, name: str, torch_dtype: Any, slicing: bool, decoder_dir: Path | None
) -> tuple[Any, Any, Any]:
    """The pipelines, with the tiny decoder in place of the full VAE when it is given."""
    import torch
    from diffusers import AutoencoderTiny, AutoPipelineForImage2Image, AutoPipelineForText2Image

    options: dict[str, Any] = {"dtype": torch_dtype, "local_files_only": True}
    options |= {part: None for part in _absent_parts(model_dir)}
    if any(model_dir.rglob("*.fp16.safetensors")):
        options["variant"] = "fp16"
    try:
        tiny = None
        if decoder_dir is not None:
            tiny = AutoencoderTiny.from_pretrained(decoder_dir, dtype=torch_dtype)
            options["vae"] = None  # the full VAE is not loaded at all; the tiny one replaces it
        text2image = AutoPipelineForText2Image.from_pretrained(model_dir, **options)
        if tiny is not None:
            text2image.vae = tiny
        image2image = AutoPipelineForImage2Image.from_pipe(text2image)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelUnavailable(
            name,
            f"diffusers could not load it ({' '.join(str(exc).split())[:300]})",
            looked_in=str(model_dir),
            fix=f"run `assistant models verify {name}`; if a file is damaged, pull it again.",
        ) from exc
    for pipe in (text2image, image2image):
        pipe.set_progress_bar_config(disable=True)
        if slicing:
            pipe.enable_attention_slicing()
    log.info("loaded %s (%s%s)", name, torch_dtype, ", tiny decoder" if tiny is not None else "")
    return torch, text2image, image2image


def _absent_parts(model_dir: Path) -> list[str]:
    """Components model_index.json names whose folder is not there (the safety checker and its
    feature extractor, which the catalog leaves out): they are loaded as None."""
    try:
        index = json.loads((model_dir / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        key
        for key, value in index.items()
        if isinstance(value, list) and value[0] is not None and not (model_dir / key).is_dir()
    ]


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[None]:
    """No progress bars or advice from diffusers and transformers while loading: the app
    reports its own progress, and their notes (torchvision fallbacks) mean nothing to a user."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    saved = [(m, m.get_verbosity(), m.is_progress_bar_enabled()) for m in
             (diffusers_logging, transformers_logging)]  # fmt: skip
    for module, _, _ in saved:
        module.set_verbosity_error()
        module.disable_progress_bar()
    try:
        yield
    finally:
        for module, verbosity, bars in saved:
            module.set_verbosity(verbosity)
            if bars:
                module.enable_progress_bar()
