"""Reads a hand-drawn page sketch into a SketchLayout: drawn shapes and OCR text, classified."""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant_app.core.errors import UserVisibleError
from vision.image_input import load_image
from vision.layout import Box, Element, SketchLayout
from vision.ocr import OcrLine, TextReader
from vision.shapes import (
    PixelBox,
    Shape,
    box_area,
    box_height,
    box_width,
    enclosing,
    find_shapes,
    ink_masks,
    inside,
    int_box,
    overlap_x,
)
from vision.sketch_text import (
    TITLE_RATIO,
    body_height,
    find_underlined,
    is_drawn,
    is_reading,
    join_split_lines,
    second_look,
    split_underlined,
    trim_underlines,
    typical,
    unbox_checkboxes,
)

log = logging.getLogger(__name__)

BLANK_INK = 0.0004  # fraction of inked pixels below which the page is empty
HEADING_RATIO = 1.35  # text this much taller than body text is a heading
NAV_TOP = 0.25  # a nav row lies in the top quarter of the page
TITLE_TOP = 0.35  # the first line, near the top, a little larger (TITLE_RATIO): a heading
# ... or written as tall but this much wider per letter (a hand whose flourishes make its body
# lines as tall as a title written in bigger letters)
TITLE_WIDTH = 1.3
FIELD_LINES = 2.4  # an empty box up to this many text heights tall is a one-line input
TALLER_FIELD = 1.45  # a field this many times the shortest one's height is a text area


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
    ink, faint = ink_masks(pixels)  # the paper is estimated once for both
    if np.count_nonzero(ink) < BLANK_INK * ink.size:
        raise UserVisibleError(
            "The sketch looks blank: nothing is drawn on it. Draw the page with a dark pen or "
            "pencil (for a photo: closer, in good light) and try again."
        )
    lines, cut = trim_underlines(ink, [line for line in ocr.read(pixels) if is_reading(line)])
    lines = join_split_lines(lines, ink, cut)
    found = find_shapes(ink, faint)
    lines = unbox_checkboxes(pixels, ink, found, lines, ocr)
    shapes = [s for s in found if is_drawn(s, lines, w, h)]
    lines = split_underlined(lines, shapes)
    lines += second_look(pixels, shapes, lines, ocr)
    if not shapes and not lines:
        raise UserVisibleError(
            "No page elements found in the picture: no drawn boxes, lines or readable text. "
            "Give a sketch of a web page (boxes for buttons and inputs, words written clearly)."
        )
    underlined = (
        find_underlined(ink, lines, shapes)
        | find_underlined(faint, lines, shapes, apart=True)  # a light pencil stroke
        | {n for n, x in enumerate(lines) if x in cut}
    )
    elements = classify(shapes, lines, (w, h), underlined=underlined)
    log.info(
        "sketch: %d shapes, %d text lines -> %d elements", len(shapes), len(lines), len(elements)
    )
    return SketchLayout.from_elements(elements, aspect=w / h)


def classify(
    shapes: list[Shape],
    lines: list[OcrLine],
    size: tuple[int, int],
    underlined: frozenset[int] = frozenset(),
) -> list[Element]:
    """Elements from shapes and text lines in pixels; `size` is the image's (width, height);
    `underlined` holds the indices of lines with a stroke under them (links)."""
    w, h = size
    body = body_height(lines)
    texts = [
        _Item("text", int_box(line.box), line.text, glyph_height=line.height) for line in lines
    ]
    out: list[_Item] = []
    rects = sorted((s for s in shapes if s.kind == "rect"), key=lambda s: s.width * s.height)
    # A table's cells are no controls: their texts are text, in the frame (a box).
    cells, frames = _table_cells(rects)
    in_cells = [t for t in texts if any(inside(t.box, c.box, 0.7) for c in cells)]
    rects = [
        r for r in rects
        if r not in cells and r not in frames and not any(inside(r.box, c.box) for c in cells)
        and not any(inside(r.box, f.box) for f in frames)  # cells bridged into one
    ]  # fmt: skip
    out += [_Item("box", f.box) for f in frames]
    for t in in_cells:
        t.used = True
        out.append(_Item("text", t.box, t.text))
    # Heading-sized text never labels a field, nor does the page's title (no menu word).
    unused = [t for row in _rows([t for t in texts if not t.used]) if not _menu(row) for t in row]
    top = min(unused, key=lambda t: t.box[1], default=None)
    title = top if top and top.glyph_height >= TITLE_RATIO * body > 0 else None
    labels = [
        t
        for t in texts
        if not t.used and t is not title
        and (body <= 0 or t.glyph_height < HEADING_RATIO * body)
    ]  # fmt: skip
    for rect in rects:
        out.append(_classify_rect(rect, rects, texts, body))
    _taller_fields(out)
    for item in [o for o in out if o.kind == "checkbox"]:
        item.text = _take_label(item.box, labels, "right")
        if not item.text:  # a small closed loop with no words beside it: a letter's hole
            item.kind = "noise"
    controls = [o.box for o in out if o.kind in ("input", "textarea", "button")]
    for item in [o for o in out if o.kind in ("input", "textarea")]:
        item.text = _take_label(item.box, labels, "left") or _take_label(
            item.box, labels, "above", controls
        )
    buttons = [o for o in out if o.kind == "button"]
    for line in (s for s in shapes if s.kind == "hline"):
        out += _classify_line(line, texts, labels, w, body, buttons)
    free = [t for t in texts if not t.used]
    out += _nav_rows(free, h, [o.box for o in out if o.kind == "box"])
    free = [t for t in free if not t.used]
    # A navigation bar's words are no body text: a title no bigger than them is still a title.
    menus = [o.box for o in out if o.kind == "nav"]
    rest = [
        line for line, t in zip(lines, texts, strict=True)
        if not any(inside(t.box, m) for m in menus)
    ]  # fmt: skip
    body = body_height(rest) if menus and len(rest) >= 2 else body
    letter = typical([_letter(line.box, line.text) for line in rest])
    # The page's title: its first free line below any menu, if larger than the usual text.
    first = min(free, key=lambda t: t.box[1], default=None)
    below = max((m[3] for m in menus), default=0) + TITLE_TOP * h
    boxes = [o.box for o in out if o.kind == "box"]
    for t in free:
        tall = body > 0 and t.glyph_height >= HEADING_RATIO * body
        tall = tall and not any(inside(t.box, b) for b in boxes)  # a card's title is text
        title = (
            t is first
            and t.box[3] <= below
            and body > 0
            and (
                t.glyph_height >= TITLE_RATIO * body
                or (t.glyph_height >= body and _letter(t.box, t.text) >= TITLE_WIDTH * letter)
            )
        )
        link = texts.index(t) in underlined and not (tall or title)
        out.append(_Item("heading" if tall or title else "link" if link else "text", t.box, t.text))
    return [Element(o.kind, o.text, _normalise(o.box, w, h)) for o in out if o.kind != "noise"]


def _table_cells(rects: list[Shape]) -> tuple[list[Shape], list[Shape]]:
    """The rectangles that are cells of a drawn table (four or more that tile a larger frame
    in at least two rows and two columns), and the frames."""
    cells: list[Shape] = []
    frames: list[Shape] = []
    for frame in sorted(rects, key=lambda r: -r.width * r.height):
        inner = [
            r
            for r in rects
            if r is not frame and not r.crossed and inside(r.box, frame.box)
            and box_area(r.box) >= 0.02 * box_area(frame.box)  # no letter holes
        ]  # fmt: skip
        # Cells are the innermost: a rectangle around two cells is two strokes bridged.
        inner = [a for a in inner if not any(b is not a and inside(b.box, a.box) for b in inner)]
        if len(inner) < 4 or sum(box_area(r.box) for r in inner) < 0.75 * box_area(frame.box):
            continue
        tall = statistics.median(r.height for r in inner)
        wide = statistics.median(r.width for r in inner)
        rows = _clusters([r.box[1] for r in inner], 0.4 * tall)
        cols = _clusters([r.box[0] for r in inner], 0.4 * wide)
        if rows >= 2 and cols >= 2 and frame not in cells:
            cells += [r for r in inner if r not in cells]
            frames.append(frame)
    return cells, frames


def _clusters(values: list[float], gap: float) -> int:
    """How many groups `values` fall into when neighbours closer than `gap` share one."""
    ordered = sorted(values)
    return 1 + sum(b - a > gap for a, b in itertools.pairwise(ordered)) if ordered else 0


def _classify_rect(rect: Shape, rects: list[Shape], texts: list[_Item], body: float) -> _Item:
    children = [r for r in rects if r is not rect and inside(r.box, rect.box)]
    inner = [t for t in texts if not t.used and inside(t.box, rect.box, 0.7)]
    if rect.crossed and not inner:  # (a word across a small box can pass for a cross)
        return _Item("image", rect.box)
    if children or len(inner) > 1:
        return _Item("box", rect.box)
    if inner:
        t = inner[0]
        # A button hugs its label, about centred; a panel holds a line by its left side.
        room = sorted((max(0, t.box[0] - rect.box[0]), max(0, rect.box[2] - t.box[2])))
        if (
            rect.height <= 3.5 * box_height(t.box) and box_area(rect.box) <= 9 * box_area(t.box)
            and room[1] <= 3 * room[0] + box_height(t.box)
        ):  # fmt: skip
            t.used = True
            return _Item("button", rect.box, t.text)
        return _Item("box", rect.box)
    if rect.width < 0.2 * rect.height or rect.solid:
        return _Item("noise", rect.box)  # a strip between two boxes, closed; a list's bullet
    side = max(rect.width, rect.height)
    if 0.6 <= rect.width / rect.height <= 1.6 and side <= 1.8 * max(body, 20):
        return _Item("checkbox", rect.box)
    if body > 0 and rect.height < 0.7 * body:
        return _Item("noise", rect.box)  # flatter than a letter: a closed stroke, no field
    if _between(rect, rects):
        return _Item("noise", rect.box)  # the gap closed between two boxes side by side
    if rect.width >= 2.5 * rect.height and rect.height <= FIELD_LINES * max(body, 20):
        return _Item("input", rect.box)
    return _Item("textarea", rect.box)


def _taller_fields(items: list[_Item]) -> None:
    """A field drawn much taller than the page's other one-line fields is a text area, even
    if written large enough to pass for one line ("Notes" under "Name" and "Email")."""
    inputs = [o for o in items if o.kind == "input"]
    if len(inputs) >= 2:
        least = min(box_height(o.box) for o in inputs)
        for o in inputs:
            if box_height(o.box) >= TALLER_FIELD * least:
                o.kind = "textarea"


def _between(rect: Shape, rects: list[Shape]) -> bool:
    """Whether `rect` is the strip between two boxes whose facing sides it shares: tabs drawn
    side by side, joined at the top and bottom, or fields stacked close, joined at the sides."""
    x0, y0, x1, y1 = rect.box
    near = max(8, 0.15 * rect.height)
    level = [
        o.box for o in rects
        if o is not rect and min(o.box[3], y1) - max(o.box[1], y0) >= 0.6 * rect.height
    ]  # fmt: skip
    if any(abs(b[2] - x0) <= near for b in level) and any(abs(b[0] - x1) <= near for b in level):
        return True
    column = [
        o.box for o in rects
        if o is not rect and min(o.box[2], x1) - max(o.box[0], x0) >= 0.6 * rect.width
    ]  # fmt: skip
    # Stacked, the strip's top and bottom are the boxes' own sides: it reaches into both.
    return any(b[1] < y0 <= b[3] + near for b in column) and any(
        b[1] - near <= y1 < b[3] for b in column
    )


def _classify_line(
    line: Shape,
    texts: list[_Item],
    labels: list[_Item],
    page_w: int,
    body: float,
    buttons: list[_Item],
) -> list[_Item]:
    """A short line with a label is an input, under a word a link; a rule is nothing."""
    over = sorted(
        (
            t for t in texts
            if not t.used
            and -0.5 * box_height(t.box) <= line.box[1] - t.box[3] <= 0.6 * box_height(t.box)
            and overlap_x(t.box, line.box) > 0.6 * box_width(t.box)
        ),
        key=lambda t: abs(line.box[1] - t.box[3]),
    )  # fmt: skip
    if line.width >= 0.6 * page_w or len(over) >= 3:  # page-wide, or under a row (a menu)
        return []
    if over and box_width(over[0].box) >= 0.6 * line.width:
        link = over[0]  # underlined text: a link, unless a heading is underlined for show
        if body > 0 and link.glyph_height >= HEADING_RATIO * body:
            return []
        link.used = True
        return [_Item("link", link.box, link.text)]
    if line.width < 0.08 * page_w:
        return []  # too short for a field: a dash, a stray stroke
    label = _take_label(line.box, labels, "left") or _take_label(line.box, labels, "above")
    # A line with a button right after it on its level is a field too ("____ [Search]").
    beside = any(
        b.box[1] <= line.box[1] <= b.box[3] and 0 <= b.box[0] - line.box[2] <= 0.3 * line.width
        for b in buttons
    )
    if not label and not beside:
        return []
    return [_Item("input", line.box, label)]


def _take_label(
    box: PixelBox, texts: list[_Item], side: str, controls: Sequence[PixelBox] = ()
) -> str:
    """Marks and returns the nearest unused text on `side` of `box` (or ""); not, above it, a
    hint nearer under one of the `controls` ("Popular: lamps" under a search box)."""
    best, best_rank = None, float("inf")
    for t in texts:
        if t.used:
            continue
        th = t.glyph_height or box_height(t.box)
        cy = (t.box[1] + t.box[3]) / 2
        if side in ("left", "right"):
            # A line field's label sits above the line's own level; a box's beside the box.
            flat = box[3] - box[1] < th
            top = box[3] - 3 * th if flat else box[1]
            lo, hi = top - 0.5 * th, box[3] + 0.5 * th
            if not lo <= cy <= hi:
                continue
            gap = box[0] - t.box[2] if side == "left" else t.box[0] - box[2]
            limit = 6 * th
            # Of two labels left of a line, the one whose foot is nearer the line's level.
            rank = gap + abs(t.box[3] - box[3]) if flat else gap
        else:
            gap = rank = box[1] - t.box[3]
            limit = 2 * th
            if not box[0] - 2 * th <= t.box[0] <= box[0] + 0.5 * (box[2] - box[0]):
                continue
            if any(
                c != box and overlap_x(t.box, c) > 0 and -0.3 * th <= t.box[1] - c[3] < gap
                for c in controls
            ):
                continue
        if -0.3 * th <= gap <= limit and rank < best_rank:
            best, best_rank = t, rank
    if best is None:
        return ""
    best.used = True
    return best.text


def _nav_rows(free: list[_Item], page_h: int, boxes: list[PixelBox]) -> list[_Item]:
    """Three or more short words side by side near the top are a navigation bar: three texts
    of a word or two, or two texts apart whose words, three or more, are each a capitalised
    menu word ("Music" and "News Help" when the reader took two menu words for one text), or
    one such text above the title. Not the titles of cards side by side (in boxes apart)."""
    out = []
    top = [t for t in free if not t.used and t.box[3] <= NAV_TOP * page_h]
    for row in _rows(top):
        held = {n for t in row for n, b in enumerate(boxes) if inside(t.box, b)}
        if len(held) >= 2:
            continue  # "Starter", "Pro", "Basic": each the title of its own card
        if len(row) == 1 and _menu_line(row[0], free):
            row[0].used = True
            out.append(_Item("nav", row[0].box, "  ".join(row[0].text.split())))
        elif _menu(row):
            for t in row:
                t.used = True
            box = enclosing([t.box for t in row])
            out.append(_Item("nav", box, "  ".join(t.text for t in row)))
    return out


def _menu(row: list[_Item]) -> bool:
    """Whether a row of texts reads as a menu: three texts or more of a word or two, or two
    texts whose three words or more are menu words."""
    short = [t for t in row if len(t.text.split()) <= 2 and len(t.text) <= 16]
    words = [w for t in row for w in t.text.split()]
    menu = len(row) >= 2 and len(words) >= 3 and all(_menu_word(w) for w in words)
    return (len(short) >= 3 and len(short) == len(row)) or menu


def _menu_line(item: _Item, free: list[_Item]) -> bool:
    """A menu read as one line ("Store Blog Help Jobs"): three words or more, capitalised, all
    menu words but one, above a larger line (the page's title, under its menu)."""
    words = item.text.split()
    menu = sum(_menu_word(w) for w in words) >= len(words) - 1 >= 2
    capitals = all(w[:1].isupper() and len(w) <= 12 for w in words)
    larger = [t for t in free if t.glyph_height >= TITLE_RATIO * item.glyph_height]
    return menu and capitals and any(t.box[1] >= item.box[3] for t in larger)


def _letter(box: PixelBox, text: str) -> float:
    """A line's width per letter (spaces left out)."""
    return box_width(box) / max(1, len(text.replace(" ", "")))


def _menu_word(word: str) -> bool:
    return word[:1].isupper() and word[1:].isalpha() and len(word) <= 12


def _rows(items: list[_Item]) -> list[list[_Item]]:
    rows: list[list[_Item]] = []
    for item in sorted(items, key=lambda t: t.box[1]):
        for row in rows:
            a, b = row[0].box, item.box
            if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(box_height(a), box_height(b)):
                row.append(item)
                break
        else:
            rows.append([item])
    return [sorted(r, key=lambda t: t.box[0]) for r in rows]


def _normalise(box: PixelBox, w: int, h: int) -> Box:
    def clip(v: float) -> float:
        return min(1.0, max(0.0, v))

    return Box(clip(box[0] / w), clip(box[1] / h), clip(box[2] / w), clip(box[3] / h))
