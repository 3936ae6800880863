"""Reads an image the user attaches: its text by OCR, and a vision model's reading if one is set."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant_app.core.cancel import CancelToken

if TYPE_CHECKING:
    import numpy as np

    from assistant_app.core.config import Config
    from vision.ocr import TextReader

log = logging.getLogger(__name__)
IMAGE_PROMPT = (
    "Describe this image in two or three sentences, then write out any text in it exactly."
)


class Describer(Protocol):
    """A vision-language model (models/vision_llm.py)."""

    def describe(self, image: bytes, prompt: str, cancel: CancelToken) -> str: ...


class ImageReader:
    """An image's words for the chat: the OCR lines top to bottom, then a vision model's
    description when one is configured. The engines load on first use."""

    def __init__(
        self,
        ocr: Callable[[], TextReader],
        describer: Callable[[], Describer | None] | None = None,
    ) -> None:
        self._make_ocr = ocr
        self._make_describer = describer or (lambda: None)
        self._ocr: TextReader | None = None
        self._describer: Describer | None = None
        self._described = False

    def __call__(self, path: Path, cancel: CancelToken | None = None) -> str:
        from vision.image_input import load_image

        loaded = load_image(path)  # UserVisibleError for a missing, damaged or huge file
        if self._ocr is None:
            self._ocr = self._make_ocr()
        lines = sorted(self._ocr.read(loaded.pixels), key=lambda line: (line.box[1], line.box[0]))
        parts = ["Text read in the image:\n" + "\n".join(line.text for line in lines)]
        if not lines:
            parts = ["No text was found in the image."]
        if not self._described:
            self._describer, self._described = self._make_describer(), True
        if self._describer is not None:
            said = self._describer.describe(
                _png(loaded.pixels), IMAGE_PROMPT, cancel or CancelToken.never()
            )
            if said.strip():
                parts.append(f"A vision model's description of the image:\n{said.strip()}")
        return "\n\n".join(parts)


def image_reader(config: Config) -> ImageReader:
    """The reader on the store's OCR weights and the [sketch] vision model, if one is set."""

    def ocr() -> TextReader:
        from models.store import open_store
        from vision.ocr import create_ocr

        return create_ocr(open_store(config))

    def describer() -> Describer | None:
        from models.store import open_store
        from models.vision_llm import create_vision_describer

        name = config.sketch.vision_model
        return create_vision_describer(name, open_store(config), threads=config.llm.threads)

    return ImageReader(ocr, describer)


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()
