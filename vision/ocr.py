"""Text lines in an image, read with RapidOCR (PP-OCRv6 ONNX weights from the model store)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from assistant_app.core.errors import ModelUnavailable
from vision.ocr_lexicon import LineBelief, alphabet_index
from vision.ocr_words import SURE, correct, halfwidth, recase, respace
from vision.shapes import crossing_strokes, longest_run, runs

if TYPE_CHECKING:
    from models.store import ModelStore

log = logging.getLogger(__name__)

OCR_MODEL = "rapidocr-ppocrv6"
WIDE_GAP = 0.6  # blank this many line heights wide separates two texts, not two words
# Blank this many line heights wide beside a slash is a space the recogniser dropped ("$81/year"
# for "$81 / year": 0.15-0.36 measured; between a word's letters at most 0.13).
SLASH_GAP = 0.14
# Each OCR model's detection, recognition and angle-classifier files, in that order. PP-OCRv6
# read 0.962 of the words on generated sketches where PP-OCRv4 read 0.893 (docs/BENCHMARKS.md).
OCR_FILES = {
    "rapidocr-ppocrv6": (
        "PP-OCRv6_det_small.onnx",
        "PP-OCRv6_rec_small.onnx",
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    ),
    "rapidocr-ppocrv4": (
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    ),
}


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
    """RapidOCR on onnxruntime, CPU only, with the detection, angle and recognition models of
    `model` (a name in OCR_FILES) from `model_dir`. Lines below `min_confidence` are dropped.

    The angle classifier is loaded (the engine wants it) but never run: it took upright
    hand-written lines for upside-down ones and read them turned ("Buy jam" as "unop ing");
    pictures and sketches come upright."""

    name = "rapidocr"

    def __init__(
        self,
        model_dir: Path,
        *,
        model: str = OCR_MODEL,
        threads: int = 0,
        min_confidence: float = 0.5,
    ) -> None:
        from rapidocr_onnxruntime import RapidOCR

        det, rec, cls = OCR_FILES[model]
        self.model_dir = model_dir
        self.min_confidence = min_confidence
        self._engine = RapidOCR(
            det_model_path=str(model_dir / det),
            rec_model_path=str(model_dir / rec),
            cls_model_path=str(model_dir / cls),
            intra_op_num_threads=threads or -1,
            # Detect at most 960 px on the long side: sketches have large text, and the
            # default (short side at least 736) made a 1600 px photo take seconds longer.
            det_limit_type="max",
            det_limit_side_len=960,
            text_score=min_confidence,
        )
        self._beliefs = _KeptBeliefs(self._engine.text_rec)

    def read(self, image: np.ndarray) -> list[OcrLine]:
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        # RapidOCR expects OpenCV's BGR order; where each letter lies lets wide gaps split a line.
        with self._beliefs.kept() as beliefs:
            result, _ = self._engine(
                np.ascontiguousarray(image[..., ::-1]), use_cls=False, return_word_box=True
            )
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        lines = []
        for points, text, score, *letters in result or []:
            quad = np.asarray(points, dtype=np.float32).reshape(4, 2)
            # Corners run clockwise from top-left: 0-3 and 1-2 are the line's sides.
            tall = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
            if float(score) < self.min_confidence:
                continue
            fixes = beliefs.corrections(str(text))
            for piece, (x0, y0, x1, y1) in _pieces(str(text), quad, letters, float(tall), gray):
                piece = recase(respace(halfwidth(_mended(piece.strip(), fixes))))
                if float(score) < SURE:
                    piece = correct(piece)
                if piece:
                    box = (float(x0), float(y0), float(x1), float(y1))
                    lines.append(OcrLine(piece, float(score), box, float(tall)))
        log.debug("OCR read %d lines", len(lines))
        return lines

    def recognise(self, crop: np.ndarray) -> tuple[str, float]:
        """The text of one line already cut out (no detection), and how sure it is."""
        if crop.ndim == 2:
            crop = np.repeat(crop[..., None], 3, axis=2)
        if min(crop.shape[:2]) < 8:
            return "", 0.0
        with self._beliefs.kept() as beliefs:
            result, _ = self._engine(
                np.ascontiguousarray(crop[..., ::-1]), use_det=False, use_cls=False, use_rec=True
            )
        if not result:
            return "", 0.0
        text, score = result[0]
        fixed = halfwidth(_mended(str(text).strip(), beliefs.corrections(str(text))))
        return recase(respace(fixed)), float(score)


class _KeptBeliefs:
    """Catches each recognised line's per-column letter probabilities from the engine's CTC
    decoder while `kept()` is open, to put misread words right afterwards (ocr_lexicon)."""

    def __init__(self, recogniser: Any) -> None:
        self._decode = recogniser.postprocess_op
        self._lock = threading.Lock()
        self._into: list[LineBelief] | None = None
        self._index = alphabet_index(self._decode.character)
        recogniser.postprocess_op = self._decoding

    def _decoding(self, preds: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        read = self._decode(preds, *args, **kwargs)
        if self._into is not None:  # one (text, confidence) read per row of `preds`
            lines = zip(preds, read, strict=False)
            self._into += [LineBelief(row, str(line[0]), self._index) for row, line in lines]
        return read

    @contextlib.contextmanager
    def kept(self) -> Iterator[_Beliefs]:
        beliefs = _Beliefs()
        with self._lock:  # one engine call at a time catches into one list
            self._into = beliefs.lines
            try:
                yield beliefs
            finally:
                self._into = None


@dataclass
class _Beliefs:
    lines: list[LineBelief] = field(default_factory=list)

    def corrections(self, text: str) -> dict[str, str]:
        """The corrections for the line read as `text` (each caught line used once)."""
        for k, belief in enumerate(self.lines):
            if belief.text == text:
                del self.lines[k]
                return belief.corrections()
        return {}


def _mended(text: str, fixes: dict[str, str]) -> str:
    if not fixes:
        return text
    pattern = "|".join(re.escape(w) for w in sorted(fixes, key=len, reverse=True))
    return re.sub(rf"(?<!\w)({pattern})(?!\w)", lambda m: fixes[m.group(0)], text)


def _pieces(
    text: str, quad: np.ndarray, letters: list, tall: float, gray: np.ndarray
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """`text` cut where the paper between two words is blank for WIDE_GAP line heights or
    more, or a stroke runs across the line there (a table's cell border), each piece with
    its box.

    The detector joins words far apart on one line ("Music       Prices" in a navigation bar)
    that PP-OCRv4's kept apart; a writer's space between words is narrower. `letters` is
    RapidOCR's word-box answer (each letter's corners, then the letters), which says where
    each space lies; `gray` (the whole image) says how wide its blank really is. A space the
    recogniser dropped beside a slash is put back.
    """
    (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
    whole = [(text, (float(x0), float(y0), float(x1), float(y1)))]
    if len(letters) < 2 or len(letters[0]) != len(letters[1]) or len(letters[1]) != len(text):
        return whole
    left, top = max(0, int(x0)), max(0, int(y0))
    crop = gray[top : int(y1), left : int(x1)]
    if crop.size == 0:
        return whole
    threshold, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    blank = (crop <= threshold).mean(axis=0) < 0.02  # columns with no ink
    centres = [int(np.asarray(c, dtype=np.float32)[:, 0].mean()) - left for c in letters[0]]
    gaps = {
        i for i in range(len(text) - 1)
        if "/" in text[i : i + 2] and not text[i : i + 2].count(" ")
        and longest_run(blank[max(0, centres[i]) : max(0, centres[i + 1])]) >= SLASH_GAP * tall
    }  # fmt: skip
    text = "".join(ch + " " * (i in gaps) for i, ch in enumerate(text))
    centres = [c for i, c in enumerate(centres) for c in [c] * (1 + (i in gaps))]
    corners_of = [c for i, c in enumerate(letters[0]) for c in [c] * (1 + (i in gaps))]
    whole = [(text, whole[0][1])]
    drawn = [i for i, ch in enumerate(text) if not ch.isspace()]
    spaces = [(a, b) for a, b in itertools.pairwise(drawn) if b > a + 1]
    # Each cut: the index of the letter after the space, and the stroke it falls at, if any.
    found: dict[int, tuple[float, float] | None] = {
        b: None
        for a, b in spaces
        if longest_run(blank[max(0, centres[a]) : max(0, centres[b])]) > WIDE_GAP * tall
    }
    # A stroke running through the line from above it to below it is a table's cell border:
    # the line is cut at the space nearest to it (the letters' places are rough).
    reach = max(2, int(0.3 * tall))
    around = gray[max(0, top - reach) : int(y1) + reach, left : int(x1)] <= threshold
    middles = {b: (centres[a] + centres[b]) / 2 for a, b in spaces}
    for start, end in runs(crossing_strokes(around)) if spaces else []:
        x = (start + end) / 2
        b = min(middles, key=lambda b: abs(middles[b] - x))
        if tall / 2 < x < crop.shape[1] - tall / 2 and abs(middles[b] - x) < tall:
            found[b] = (left + start, left + end)
    if not found:
        return whole
    corners = [np.asarray(c, dtype=np.float32).reshape(4, 2) for c in corners_of]
    out = []
    bounds = [(0, None), *sorted(found.items()), (len(text), None)]
    for (start, before), (end, after) in itertools.pairwise(bounds):
        mine = np.concatenate([corners[i] for i in range(start, end) if not text[i].isspace()])
        (a0, b0), (a1, b1) = mine.min(axis=0), mine.max(axis=0)
        # A piece ends at the border beside it (the letters' places may run past it).
        a0, a1 = max(a0, before[1]) if before else a0, min(a1, after[0]) if after else a1
        out.append((text[start:end], (float(a0), float(b0), float(a1), float(b1))))
    return out


def create_ocr(store: ModelStore, *, threads: int = 0, model: str = OCR_MODEL) -> RapidOcrReader:
    """The RapidOCR reader for `model` (a name in OCR_FILES) with weights from `store`;
    ModelUnavailable says the fix if not."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            model,
            f"the rapidocr-onnxruntime package is missing ({exc})",
            fix="run scripts/setup (or `pip install rapidocr-onnxruntime==1.4.4` in the venv).",
        ) from None
    pull = f"run `assistant models pull {model}` (or scripts/setup)."
    try:
        model_dir = Path(store.path(model))
    except ModelUnavailable:
        raise
    except (OSError, KeyError) as exc:
        raise ModelUnavailable(model, f"the store could not provide it ({exc})", fix=pull) from None
    missing = [f for f in OCR_FILES[model] if not (model_dir / f).is_file()]
    if missing:
        raise ModelUnavailable(
            model, f"missing {', '.join(missing)}", looked_in=str(model_dir), fix=pull
        )
    try:
        return RapidOcrReader(model_dir, model=model, threads=threads)
    except Exception as exc:  # onnxruntime raises its own types for a damaged file
        raise ModelUnavailable(
            model,
            f"its weights could not be loaded ({type(exc).__name__}: {exc})",
            looked_in=str(model_dir),
            fix=f"run `assistant models verify {model}` and pull it again.",
        ) from None
