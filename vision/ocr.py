"""Text lines in an image, read with RapidOCR (PP-OCRv4 ONNX weights from the model store)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant_app.core.errors import ModelUnavailable
from vision.ocr_words import SURE, correct, respace

if TYPE_CHECKING:
    from models.store import ModelStore

log = logging.getLogger(__name__)

OCR_MODEL = "rapidocr-ppocrv4"
DET_FILE = "ch_PP-OCRv4_det_infer.onnx"
REC_FILE = "ch_PP-OCRv4_rec_infer.onnx"
CLS_FILE = "ch_ppocr_mobile_v2.0_cls_infer.onnx"


@dataclass(frozen=True)
class OcrLine:
    """One line of text: what it says, how sure the reader is (0..1), where it is as an
    axis-aligned box in pixels (x0, y0, x1, y1) and how tall its letters are in pixels (across
    the line, so a slanted line is not taller than its letters; 0 means the box's height)."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]
    glyph_height: float = 0.0

    @property
    def height(self) -> float:
        return self.glyph_height or self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


class TextReader(Protocol):
    """Reads text lines from an RGB or greyscale uint8 image."""

    def read(self, image: np.ndarray) -> list[OcrLine]: ...


class RapidOcrReader:
    """RapidOCR on onnxruntime, CPU only, with the detection, angle and recognition models from
    `model_dir`. Lines below `min_confidence` are dropped."""

    name = "rapidocr"

    def __init__(self, model_dir: Path, *, threads: int = 0, min_confidence: float = 0.5) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.model_dir = model_dir
        self.min_confidence = min_confidence
        self._engine = RapidOCR(
            det_model_path=str(model_dir / DET_FILE),
            rec_model_path=str(model_dir / REC_FILE),
            cls_model_path=str(model_dir / CLS_FILE),
            intra_op_num_threads=threads or -1,
            # Detect at most 960 px on the long side: sketches have large text, and the
            # default (short side at least 736) made a 1600 px photo take seconds longer.
            det_limit_type="max",
            det_limit_side_len=960,
            text_score=min_confidence,
        )

    def read(self, image: np.ndarray) -> list[OcrLine]:
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        # RapidOCR expects OpenCV's BGR order.
        result, _ = self._engine(np.ascontiguousarray(image[..., ::-1]))
        lines = []
        for points, text, score in result or []:
            quad = np.asarray(points, dtype=np.float32).reshape(4, 2)
            text = respace(str(text).strip())
            if float(score) < SURE:
                text = correct(text)
            if text and float(score) >= self.min_confidence:
                (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
                # Corners run clockwise from top-left: 0-3 and 1-2 are the line's sides.
                tall = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
                box = (float(x0), float(y0), float(x1), float(y1))
                lines.append(OcrLine(text, float(score), box, float(tall)))
        log.debug("OCR read %d lines", len(lines))
        return lines

    def recognise(self, crop: np.ndarray) -> tuple[str, float]:
        """The text of one line already cut out (no detection), and how sure it is."""
        if crop.ndim == 2:
            crop = np.repeat(crop[..., None], 3, axis=2)
        if min(crop.shape[:2]) < 8:
            return "", 0.0
        result, _ = self._engine(
            np.ascontiguousarray(crop[..., ::-1]), use_det=False, use_cls=False, use_rec=True
        )
        if not result:
            return "", 0.0
        text, score = result[0]
        return respace(str(text).strip()), float(score)


def create_ocr(store: ModelStore, *, threads: int = 0) -> RapidOcrReader:
    """The RapidOCR reader with weights from `store`; ModelUnavailable says the fix if not."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            OCR_MODEL,
            f"the rapidocr-onnxruntime package is missing ({exc})",
            fix="run scripts/setup (or `pip install rapidocr-onnxruntime==1.4.4` in the venv).",
        ) from None
    try:
        model_dir = Path(store.path(OCR_MODEL))
    except ModelUnavailable:
        raise
    except (OSError, KeyError) as exc:
        raise ModelUnavailable(
            OCR_MODEL, f"the store could not provide it ({exc})", fix=_pull_fix()
        ) from None
    missing = [f for f in (DET_FILE, REC_FILE, CLS_FILE) if not (model_dir / f).is_file()]
    if missing:
        raise ModelUnavailable(
            OCR_MODEL, f"missing {', '.join(missing)}", looked_in=str(model_dir), fix=_pull_fix()
        )
    try:
        return RapidOcrReader(model_dir, threads=threads)
    except Exception as exc:  # onnxruntime raises its own types for a damaged file
        raise ModelUnavailable(
            OCR_MODEL,
            f"its weights could not be loaded ({type(exc).__name__}: {exc})",
            looked_in=str(model_dir),
            fix=f"run `assistant models verify {OCR_MODEL}` and pull it again.",
        ) from None


def _pull_fix() -> str:
    return f"run `assistant models pull {OCR_MODEL}` (or scripts/setup)."
