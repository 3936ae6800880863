"""Reads a hand-drawn page sketch into a SketchLayout: drawn shapes and OCR text, classified."""

from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant_app.core.errors import UserVisibleError
from vision.image_input import load_image
from vision.layout import Box, Element, SketchLayout
from vision.ocr import OcrLine, TextReader
from vision.shapes import PixelBox, Shape, find_shapes, ink_mask

log = logging.getLogger(__name__)

BLANK_INK = 0.0004  # fraction of inked pixels below which the page is empty
HEADING_RATIO = 1.35  # text this much taller than body text is a heading
NAV_TOP = 0.25  # a nav row lies in the top quarter of the page


@dataclass
class _Item:
    """A shape or text line on its way to becoming an element."""

    kind: str
    box: PixelBox
    text: str = ""
    used: bool = False
    glyph_height: float = 0.0


def read_sketch(source: str | Path | np.ndarray, ocr: TextReader) -> SketchLayout:
    """The layout drawn in `source` (an image file or an RGB uint8 array).

    Raises UserVisibleError for a file that is not a readable image, a blank page, or a picture
    with no page elements (no boxes, lines or text) in it.
    """
    if isinstance(source, np.ndarray):
        pixels = source if source.ndim == 3 else np.repeat(source[..., None], 3, axis=2)
    else:
        pixels = load_image(source).pixels
    h, w = pixels.shape[:2]
    ink = ink_mask(pixels)
    if np.count_nonzero(ink) < BLANK_INK * ink.size:
        raise UserVisibleError(
            "The sketch looks blank: nothing is drawn on it. Draw the page with a dark pen or "
            "pencil (for a photo: closer, in good light) and try again."
        )
    lines = [line for line in ocr.read(pixels) if _is_words(line.text)]
    shapes = [s for s in find_shapes(ink) if _is_drawn(s, lines, w, h)]
    if not shapes and not lines:
        raise UserVisibleError(
            "No page elements found in the picture: no drawn boxes, lines or readable text. "
            "Give a sketch of a web page (boxes for buttons and inputs, words written clearly)."
        )
    elements = classify(shapes, lines, (w, h))
    log.info(
        "sketch: %d shapes, %d text lines -> %d elements", len(shapes), len(lines), len(elements)
    )
    return SketchLayout.from_elements(elements)


def classify(shapes: list[Shape], lines: list[OcrLine], size: tuple[int, int]) -> list[Element]:
    """Elements from shapes and text lines in pixels; `size` is the image's (width, height)."""
    w, h = size
    body = _body_height(lines)
    texts = [
        _Item("text", _int_box(line.box), line.text, glyph_height=line.height) for line in lines
    ]
    # Heading-sized text never labels a field.
    labels = [t for t in texts if body <= 0 or t.glyph_height < HEADING_RATIO * body]
    out: list[_Item] = []
    rects = sorted((s for s in shapes if s.kind == "rect"), key=lambda s: s.width * s.height)
    for rect in rects:
        out.append(_classify_rect(rect, rects, texts, body))
    for item in [o for o in out if o.kind == "checkbox"]:
        item.text = _take_label(item.box, labels, "right")
    for item in [o for o in out if o.kind in ("input", "textarea")]:
        item.text = _take_label(item.box, labels, "left") or _take_label(item.box, labels, "above")
    for line in (s for s in shapes if s.kind == "hline"):
        out += _classify_line(line, texts, labels, w)
    free = [t for t in texts if not t.used]
    out += _nav_rows(free, h)
    for t in free:
        if not t.used:
            tall = body > 0 and t.glyph_height >= HEADING_RATIO * body
            out.append(_Item("heading" if tall else "text", t.box, t.text))
    return [Element(o.kind, o.text, _normalise(o.box, w, h)) for o in out]


def _classify_rect(rect: Shape, rects: list[Shape], texts: list[_Item], body: float) -> _Item:
    if rect.crossed:
        return _Item("image", rect.box)
    children = [r for r in rects if r is not rect and _inside(r.box, rect.box)]
    inner = [t for t in texts if not t.used and _inside(t.box, rect.box, 0.7)]
    if children or len(inner) > 1:
        return _Item("box", rect.box)
    if inner:
        t = inner[0]
        if rect.height <= 3.5 * _height(t.box) and _area(rect.box) <= 9 * _area(t.box):
            t.used = True
            return _Item("button", rect.box, t.text)
        return _Item("box", rect.box)
    side = max(rect.width, rect.height)
    if 0.6 <= rect.width / rect.height <= 1.6 and side <= 1.8 * max(body, 20):
        return _Item("checkbox", rect.box)
    if rect.width >= 2.5 * rect.height and rect.height <= 3 * max(body, 20):
        return _Item("input", rect.box)
    return _Item("textarea", rect.box)


def _classify_line(
    line: Shape, texts: list[_Item], labels: list[_Item], page_w: int
) -> list[_Item]:
    """A short line with a label is an input; a page-wide rule or an underline is nothing."""
    if line.width >= 0.6 * page_w:
        return []
    over = [
        t
        for t in texts
        if not t.used
        and 0 <= line.box[1] - t.box[3] <= _height(t.box)
        and _overlap_x(t.box, line.box) > 0.6 * _width(t.box)
    ]
    if over and _width(over[0].box) >= 0.6 * line.width:
        return []  # underlined text
    label = _take_label(line.box, labels, "left") or _take_label(line.box, labels, "above")
    if not label:
        return []
    return [_Item("input", line.box, label)]


def _take_label(box: PixelBox, texts: list[_Item], side: str) -> str:
    """Marks and returns the nearest unused text on `side` of `box` (or "")."""
    best, best_gap = None, float("inf")
    for t in texts:
        if t.used:
            continue
        th = t.glyph_height or _height(t.box)
        cy = (t.box[1] + t.box[3]) / 2
        if side in ("left", "right"):
            # A line field's label sits above the line's own level; a box's beside the box.
            top = box[3] - 3 * th if box[3] - box[1] < th else box[1]
            lo, hi = top - 0.5 * th, box[3] + 0.5 * th
            if not lo <= cy <= hi:
                continue
            gap = box[0] - t.box[2] if side == "left" else t.box[0] - box[2]
            limit = 6 * th
        else:
            gap = box[1] - t.box[3]
            limit = 1.5 * th
            if not box[0] - 2 * th <= t.box[0] <= box[0] + 0.5 * (box[2] - box[0]):
                continue
        if -0.3 * th <= gap <= limit and gap < best_gap:
            best, best_gap = t, gap
    if best is None:
        return ""
    best.used = True
    return best.text


def _nav_rows(free: list[_Item], page_h: int) -> list[_Item]:
    """Three or more short words side by side near the top are a navigation bar."""
    out = []
    top = [t for t in free if not t.used and t.box[3] <= NAV_TOP * page_h]
    for row in _rows(top):
        short = [t for t in row if len(t.text.split()) <= 2 and len(t.text) <= 16]
        if len(short) >= 3 and len(short) == len(row):
            for t in row:
                t.used = True
            box = (
                min(t.box[0] for t in row),
                min(t.box[1] for t in row),
                max(t.box[2] for t in row),
                max(t.box[3] for t in row),
            )
            out.append(_Item("nav", box, "  ".join(t.text for t in row)))
    return out


def _rows(items: list[_Item]) -> list[list[_Item]]:
    rows: list[list[_Item]] = []
    for item in sorted(items, key=lambda t: t.box[1]):
        for row in rows:
            a, b = row[0].box, item.box
            if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(_height(a), _height(b)):
                row.append(item)
                break
        else:
            rows.append([item])
    return [sorted(r, key=lambda t: t.box[0]) for r in rows]


def _is_drawn(shape: Shape, lines: list[OcrLine], w: int, h: int) -> bool:
    """False for a letter's outline (an O, a D) and for the paper's own edge in a photo."""
    if shape.width * shape.height > 0.75 * w * h:
        return False
    for line in lines:
        box = _int_box(line.box)
        if _inside(shape.box, box, 0.8) and shape.height <= 1.3 * _height(box):
            return False
    return True


def _is_words(text: str) -> bool:
    return bool(re.search(r"\w", text))


def _body_height(lines: list[OcrLine]) -> float:
    """The usual text height: the median without the tallest line (often the only heading)."""
    heights = sorted(line.height for line in lines)
    if len(heights) > 1:
        heights = heights[:-1]
    return statistics.median(heights) if heights else 0.0


def _inside(inner: PixelBox, outer: PixelBox, share: float = 0.9) -> bool:
    area = _area(inner)
    return area > 0 and _intersection(inner, outer) >= share * area


def _intersection(a: PixelBox, b: PixelBox) -> float:
    return max(0, _overlap_x(a, b)) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _overlap_x(a: PixelBox, b: PixelBox) -> float:
    return min(a[2], b[2]) - max(a[0], b[0])


def _area(b: PixelBox) -> float:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _width(b: PixelBox) -> int:
    return b[2] - b[0]


def _height(b: PixelBox) -> int:
    return b[3] - b[1]


def _int_box(box: tuple[float, float, float, float]) -> PixelBox:
    return (int(box[0]), int(box[1]), int(round(box[2])), int(round(box[3])))


def _normalise(box: PixelBox, w: int, h: int) -> Box:
    def clip(v: float) -> float:
        return min(1.0, max(0.0, v))

    return Box(clip(box[0] / w), clip(box[1] / h), clip(box[2] / w), clip(box[3] / h))
